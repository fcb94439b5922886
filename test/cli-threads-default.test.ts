// The engine's thread count when LORASCOPE_THREADS is unset (src/cli/threads-default.ts): a kernel
// thread per core, up to 2, for the commands that run one model in one process; 1 otherwise; a value
// the user set is never replaced. Checked on the function and through the bin shim (bin/lorascope.js,
// built by `npm test`'s pretest), whose process environment an exit hook reports.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { defaultThreads } from "../src/cli/threads-default.ts";

const run = promisify(execFile);
const bin = path.resolve(import.meta.dirname, "../bin/lorascope.js");

test("finetune, pretrain and evaluate get a thread per core, up to 2; other commands and set values are left", () => {
  for (const cmd of ["finetune", "pretrain", "evaluate"]) {
    assert.equal(defaultThreads([cmd, "--model", "stories260K"], {}, 2), "2", cmd);
    assert.equal(defaultThreads([cmd], {}, 16), "2", `${cmd} on 16 cores`);
    assert.equal(defaultThreads([cmd], {}, 1), "1", `${cmd} on 1 core`);
    assert.equal(defaultThreads([cmd], { LORASCOPE_THREADS: "1" }, 2), undefined, `${cmd} with LORASCOPE_THREADS set`);
  }
  for (const cmd of ["sweep", "reproduce", "generate", "worker", "coord-check", "help", "--version"]) {
    assert.equal(defaultThreads([cmd], {}, 2), undefined, cmd);
  }
  assert.equal(defaultThreads([], {}, 2), undefined);
});

test("the bin shim sets the default before the CLI runs, and keeps the user's value", async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), "lorascope-threads-"));
  const probe = path.join(dir, "probe.mjs");
  writeFileSync(probe, 'process.on("exit", () => process.stderr.write(`LORASCOPE_THREADS=${process.env.LORASCOPE_THREADS}\\n`));\n');
  const text = path.join(dir, "t.txt");
  writeFileSync(text, "Once upon a time there was a little girl. She liked to play in the park.\n");
  const env = { ...process.env };
  delete env["LORASCOPE_THREADS"];
  const evaluate = ["--import", probe, bin, "evaluate", "--model", "stories260K", "--data", text, "--json"];
  const expected = String(Math.min(2, os.availableParallelism()));
  const plain = await run(process.execPath, evaluate, { env, timeout: 60_000 });
  assert.match(plain.stderr, new RegExp(`LORASCOPE_THREADS=${expected}\\n`));
  assert.ok(Number.isFinite((JSON.parse(plain.stdout) as { loss: number }).loss), "evaluate ran and printed its loss");
  const set = await run(process.execPath, evaluate, { env: { ...env, LORASCOPE_THREADS: "1" }, timeout: 60_000 });
  assert.match(set.stderr, /LORASCOPE_THREADS=1\n/);
  assert.equal(set.stdout, plain.stdout, "1 and 2 kernel threads give the same loss, bit for bit");
  const sweepHelp = await run(process.execPath, ["--import", probe, bin, "sweep", "--help"], { env, timeout: 60_000 });
  assert.match(sweepHelp.stderr, /LORASCOPE_THREADS=undefined\n/);
});
