// Child-process entry of `lorascope worker --concurrency N` (worker.ts): one queue worker, one engine.
import { serveChild } from "./worker.ts";

if (process.send !== undefined) await serveChild(process.argv[2] ?? "{}");
