// The README's library example is examples/quickstart.ts verbatim, and it runs as written.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, existsSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { CLI_ARGS } from "./support/cli.ts";

const root = path.resolve(import.meta.dirname, "..");
const example = readFileSync(path.join(root, "examples/quickstart.ts"), "utf8");

test("the README shows examples/quickstart.ts verbatim, in at most 25 lines", () => {
  const readme = readFileSync(path.join(root, "README.md"), "utf8");
  const block = /<!-- quickstart -->\s*```ts\n([\s\S]*?)```/.exec(readme);
  assert.ok(block, "README.md needs a ```ts block after <!-- quickstart -->");
  assert.equal(block[1], example);
  assert.ok(example.trimEnd().split("\n").length <= 25);
});

test("the example trains, saves, reloads, gets identical outputs and leaves no tensor alive", () => {
  const cwd = mkdtempSync(path.join(os.tmpdir(), "lorascope-quickstart-"));
  try {
    // The example imports "lorascope" as a user would; the lorascope-source export condition points
    // that at src/index.ts, so this tests the sources (test/package.test.ts tests the build).
    const tsx = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href;
    // live-buffers.ts counts the engine's buffers from before the example's first tensor.
    const probe = pathToFileURL(path.join(root, "test/support/live-buffers.ts")).href;
    const r = spawnSync(process.execPath, ["--conditions=lorascope-source", "--import", tsx, "--import", probe, path.join(root, "examples/quickstart.ts")], {
      cwd,
      encoding: "utf8",
    });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /identical outputs: true/);
    assert.match(r.stderr, /live buffers: 0\n/, `the example leaves tensors alive: ${r.stderr}`);
    assert.ok(existsSync(path.join(cwd, "quickstart-adapter/adapter_model.safetensors")));
    const cfg = JSON.parse(readFileSync(path.join(cwd, "quickstart-adapter/adapter_config.json"), "utf8")) as {
      peft_type: string;
      r: number;
    };
    assert.equal(cfg.peft_type, "LORA");
    assert.equal(cfg.r, 4);
    // The adapter really learned something: B moved off zero, so s·B·A ≠ 0 (identical outputs of
    // an untrained adapter would prove nothing).
    const inspect = spawnSync(process.execPath, [...CLI_ARGS, "inspect", "quickstart-adapter", "--json"], {
      cwd,
      encoding: "utf8",
    });
    assert.equal(inspect.status, 0, inspect.stderr);
    const summary = JSON.parse(inspect.stdout) as { modules: Array<{ normB: number; normDelta: number }> };
    assert.equal(summary.modules.length, 2);
    for (const m of summary.modules) assert.ok(m.normB > 0 && m.normDelta > 0, JSON.stringify(m));
  } finally {
    rmSync(cwd, { recursive: true, force: true });
  }
});
