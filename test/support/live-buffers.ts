// Loaded with `node --import` ahead of a script: counts the engine's device buffers from the start
// and prints "live buffers: N" on stderr once the script has finished (its event loop has drained).
import { liveBuffers, trackAllocations } from "../../src/engine/index.ts";

await trackAllocations();
process.once("beforeExit", () => process.stderr.write(`live buffers: ${liveBuffers()}\n`));
