// argv → reproduce config: a pure function; bad flags give one sentence each.
import { test } from "node:test";
import assert from "node:assert/strict";
import { parseLrs, reproduceConfig } from "../src/cli/commands/reproduce.ts";
import { UserError } from "../src/core/errors.ts";
import { TOY_DEFAULTS } from "../src/experiments/toy-spec.ts";

test("defaults and overrides", () => {
  const d = reproduceConfig([]);
  assert.deepEqual(d.spec.widths, TOY_DEFAULTS.widths);
  assert.equal(d.json, false);
  const c = reproduceConfig(["--widths", "64,128", "--lrs", "2^-10:2^-2:5", "--seeds", "2", "--steps", "20", "--rank", "8", "--optimizer", "signsgd", "--inits", "init-b", "--json", "--log-every", "5", "--workers", "1", "--out", "/tmp/x"]);
  assert.deepEqual(c.spec.widths, [64, 128]);
  assert.equal(c.spec.lrs.length, 5);
  assert.ok(Math.abs((c.spec.lrs[0] as number) - 2 ** -10) < 1e-15 && Math.abs((c.spec.lrs[4] as number) - 0.25) < 1e-12);
  assert.deepEqual(c.spec.seeds, [0, 1]);
  assert.equal(c.spec.r, 8);
  assert.equal(c.spec.alpha, 8);
  assert.equal(c.spec.optimizer, "signsgd");
  assert.deepEqual(c.spec.inits, ["init-b"]);
  assert.equal(c.spec.logEvery, 5);
  assert.equal(c.workers, 1);
  assert.equal(c.out, "/tmp/x");
  assert.equal(c.json, true);
  assert.deepEqual(parseLrs("0.1,0.01"), [0.1, 0.01]);
  const q = reproduceConfig(["--quick", "--steps", "7"]);
  assert.equal(q.spec.steps, 7);
  assert.ok(q.spec.widths.length < TOY_DEFAULTS.widths.length);
});

test("bad flags are one-sentence user errors", () => {
  const bad: string[][] = [
    ["--inits", "init-c"],
    ["--inits", "pissa"],
    ["--lrs", "-0.1"],
    ["--lrs", "1:0.1:3"],
    ["--widths", ""],
    ["--widths", "2"],
    ["--seeds", "0"],
    ["--steps", "0"],
    ["--optimizer", "lion"],
    ["--frobnicate"],
  ];
  for (const argv of bad) {
    assert.throws(
      () => reproduceConfig(argv),
      (e: unknown) => e instanceof UserError && !e.message.includes("\n") && e.message.length > 10,
      argv.join(" "),
    );
  }
});
