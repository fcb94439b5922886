#!/usr/bin/env node
// The bin shim: hand argv to the built CLI (dist/, made by `npm run build`, which `npm install` runs).
const { main } = await import("../dist/cli/main.js");
process.exitCode = await main(process.argv.slice(2));
