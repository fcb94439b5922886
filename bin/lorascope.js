#!/usr/bin/env node
// The bin shim: hand argv to the built CLI (dist/, made by `npm run build`, which `npm install` runs).
// The engine's thread count is read when it loads, so its default is set before the CLI is imported.
// exitWithParent: when a wrapper such as npx is killed, this process stops too rather than run on.
const { applyDefaultThreads } = await import("../dist/cli/threads-default.js");
applyDefaultThreads(process.argv.slice(2));
const { main, exitWithParent } = await import("../dist/cli/main.js");
exitWithParent();
process.exitCode = await main(process.argv.slice(2));
