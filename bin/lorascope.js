#!/usr/bin/env node
// The bin shim: hand argv to the built CLI (dist/, made by `npm run build`, which `npm install` runs).
// exitWithParent: when a wrapper such as npx is killed, this process stops too rather than run on.
const { main, exitWithParent } = await import("../dist/cli/main.js");
exitWithParent();
process.exitCode = await main(process.argv.slice(2));
