// Atomic writes leave either the old file or the whole new one, and no temporary file; the stale
// temporaries of a killed writer are recognised by name and nothing else is touched.
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { buildFolderAtomic, removeStaleTemps, replacedFolder, writeFileAtomic, writeFileAtomicSync, writeFilesFlushed } from "../src/io/atomic.ts";

test("sync and async atomic writes replace the file and leave no temporary", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "lorascope-atomic-"));
  try {
    const file = path.join(dir, "row.json");
    writeFileAtomicSync(file, "one\n");
    assert.equal(fs.readFileSync(file, "utf8"), "one\n");
    await writeFileAtomic(file, "two\n");
    assert.equal(fs.readFileSync(file, "utf8"), "two\n");
    writeFileAtomicSync(file, new Uint8Array([51, 10]));
    assert.equal(fs.readFileSync(file, "utf8"), "3\n");
    assert.deepEqual(fs.readdirSync(dir), ["row.json"]);
    // A write into a missing folder fails without leaving anything behind.
    assert.throws(() => writeFileAtomicSync(path.join(dir, "missing", "x.json"), "x"), /ENOENT/);
    assert.deepEqual(fs.readdirSync(dir), ["row.json"]);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("removeStaleTemps removes only the temporaries' names", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "lorascope-atomic-"));
  try {
    const keep = ["a.json", ".hidden", "b.tmp", ".a.json.12.0123456789ab.tmp.bak"];
    for (const f of [...keep, ".a.json.12.0123456789ab.tmp", ".run-3.jsonl.4567.deadbeef0123.tmp"])
      fs.writeFileSync(path.join(dir, f), "x");
    removeStaleTemps(dir);
    assert.deepEqual(fs.readdirSync(dir).sort(), [...keep].sort());
    removeStaleTemps(path.join(dir, "absent")); // no folder: nothing to do, no error
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("buildFolderAtomic: fresh refuses a full folder; replace swaps the old one aside and removes it", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "lorascope-atomic-"));
  try {
    const out = path.join(dir, "ck");
    await buildFolderAtomic(out, (tmp) => writeFilesFlushed(tmp, [["a", "1"]]));
    await assert.rejects(buildFolderAtomic(out, (tmp) => writeFilesFlushed(tmp, [["a", "2"]])), /is not empty/);
    await buildFolderAtomic(out, (tmp) => writeFilesFlushed(tmp, [["b", "2"]]), { mode: "replace" });
    assert.deepEqual(fs.readdirSync(out), ["b"]);
    assert.deepEqual(fs.readdirSync(dir), ["ck"], "no old folder and no temporary left");
    // A fill that fails leaves the old folder as it was.
    await assert.rejects(
      buildFolderAtomic(out, async (tmp) => {
        await writeFilesFlushed(tmp, [["c", "3"]]);
        throw new Error("disk gone");
      }, { mode: "replace" }),
      /disk gone/,
    );
    assert.deepEqual(fs.readdirSync(out), ["b"]);
    assert.deepEqual(fs.readdirSync(dir), ["ck"]);
    assert.equal(replacedFolder(out), path.join(dir, ".ck.old"));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
