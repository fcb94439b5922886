// The sweep store both studies write through: NaN and ±Infinity survive a row file, nulls that mean
// "absent" stay null, and the settings hash ignores key order but not values.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { finishedRuns, readRowFile, readRowFiles, runsDir, settingsHash, writeRowFileSync } from "../src/experiments/store.ts";

test("a row file keeps NaN and ±Infinity, and only the named nulls stay null", () => {
  const out = mkdtempSync(path.join(os.tmpdir(), "lorascope-store-"));
  try {
    const file = path.join(out, "rows.jsonl");
    const rows = [{ id: "a", loss: NaN, edge: Infinity, low: -Infinity, divergedAt: null, ok: 1.5 }];
    writeRowFileSync(file, rows);
    assert.equal(readFileSync(file, "utf8"), '{"id":"a","loss":null,"edge":"Infinity","low":"-Infinity","divergedAt":null,"ok":1.5}\n');
    assert.deepEqual(readRowFile(file, new Set(["divergedAt"])), rows);
    assert.deepEqual(readRowFile(file, "all"), [{ ...rows[0], loss: null }]);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test("row files are read in name order, filtered, and finished runs are found by id", () => {
  const out = mkdtempSync(path.join(os.tmpdir(), "lorascope-store-"));
  try {
    assert.deepEqual(readRowFiles(out, () => true, "all"), []); // no runs/ yet
    const dir = runsDir(out);
    mkdirSync(dir);
    writeRowFileSync(path.join(dir, "p-2.jsonl"), [{ id: "b", final: true }]);
    writeRowFileSync(path.join(dir, "p-1.jsonl"), [{ id: "a", final: false }, { id: "a", final: true }]);
    writeRowFileSync(path.join(dir, "q-1.jsonl"), [{ id: "c", final: true }]);
    const rows = readRowFiles<{ id: string; final: boolean }>(out, (f) => f.startsWith("p-"), "all");
    assert.deepEqual(rows.map((r) => r.id), ["a", "a", "b"]);
    assert.deepEqual([...finishedRuns(rows.slice(0, 1), (r) => r.id, (r) => r.final)], []);
    assert.deepEqual([...finishedRuns(rows, (r) => r.id, (r) => r.final)].sort(), ["a", "b"]);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test("the settings hash ignores key order, not values", () => {
  assert.equal(settingsHash({ a: 1, b: [2, 3] }), settingsHash({ b: [2, 3], a: 1 }));
  assert.notEqual(settingsHash({ a: 1, b: [2, 3] }), settingsHash({ a: 1, b: [3, 2] }));
  assert.match(settingsHash({}), /^[0-9a-f]{12}$/);
});
