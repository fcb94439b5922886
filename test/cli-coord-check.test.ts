// `lorascope coord-check --json`, run as users run it: stdout is one JSON document holding the grid
// it was asked for; a bad width list is a usage error.
import { test } from "node:test";
import assert from "node:assert/strict";
import { lorascope } from "./support/cli.ts";

test("coord-check --json prints one JSON document", async () => {
  const r = await lorascope("coord-check", "--widths", "16,32", "--seeds", "1", "--steps", "2", "--json");
  assert.equal(r.code, 0, r.stderr);
  const result = JSON.parse(r.stdout) as {
    widths: number[];
    steps: number;
    seeds: number;
    rows: Array<{ name: string; slope: Record<string, number> }>;
  };
  assert.deepEqual([result.widths, result.steps, result.seeds], [[16, 32], 2, 1]);
  assert.ok(result.rows.length > 0 && result.rows.every((row) => Number.isFinite(row.slope["zA"])));
});

test("coord-check usage errors exit 2 with one sentence", async () => {
  const one = await lorascope("coord-check", "--widths", "16");
  assert.deepEqual([one.code, one.stderr], [2, "lorascope coord-check: --widths needs at least two widths to fit a slope\n"]);
  const small = await lorascope("coord-check", "--widths", "1,16");
  assert.deepEqual([small.code, small.stderr], [2, "lorascope coord-check: --widths must be at least 2, got 1\n"]);
});
