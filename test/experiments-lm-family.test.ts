// The width study's base models (experiments/lm/family): each width pretrained once into
// OUT/models/w<width>, reused by a rerun with the same settings, refused — naming the setting — by a
// rerun with other settings, and a member killed before its first checkpoint started over (resuming
// from a checkpoint is pretrain's own test).
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { ensureFamily, memberDir } from "../src/experiments/lm/family.ts";
import { lmStudySpec } from "../src/experiments/lm/study-spec.ts";

const dir = await mkdtemp(path.join(tmpdir(), "lorascope-family-"));
const text = path.join(dir, "speech.txt");
await writeFile(text, "We the people of the United States, in order to form a more perfect union, establish justice.\n".repeat(10));
const other = path.join(dir, "other.txt");
await writeFile(other, "The molecule was observed under the microscope at a magnification of four hundred.\n".repeat(10));
// Tiny on purpose (CI has two cores): widths 16 and 32 in heads of 8, one layer, 16-token blocks.
const study = lmStudySpec({
  widths: [32, 16], layers: 1, headDim: 8, seqLen: 16, rank: 2,
  pretrainData: text, pretrainValid: text, pretrainSteps: 6, pretrainBatch: 4,
  finetuneData: other, finetuneValid: other,
});

test("the family is pretrained once per width, reused with the same settings, refused with others", async () => {
  const out = path.join(dir, "study");
  const first = await ensureFamily(study, out);
  assert.deepEqual(first.map((m) => [m.width, m.trained]), [[16, true], [32, true]]);
  for (const m of first) assert.equal(m.result.spec.width, m.width);
  const before = (await stat(path.join(memberDir(out, 32), "model.safetensors"))).mtimeMs;
  const again = await ensureFamily(study, out);
  assert.deepEqual(again.map((m) => m.trained), [false, false]);
  assert.equal((await stat(path.join(memberDir(out, 32), "model.safetensors"))).mtimeMs, before, "reused, not rewritten");
  await assert.rejects(
    ensureFamily(lmStudySpec({ ...study, pretrainSteps: 8 }), out),
    /models\/w16 was pretrained with other settings: steps 6 \(here 8\); a study does not mix base models/,
  );
});

test("a member killed before its first checkpoint (no pretrain.json, no checkpoint) starts over", async () => {
  const out = path.join(dir, "study2");
  const [m16] = await ensureFamily({ ...study, widths: [16] }, out);
  assert.ok(m16 !== undefined);
  // Half-written leftovers of a run killed before its first checkpoint: started over.
  await rm(path.join(memberDir(out, 16), "pretrain.json"));
  await writeFile(path.join(memberDir(out, 16), "metrics.jsonl"), "{\"step\": 1, \"loss\": 9}\n");
  const [redone] = await ensureFamily({ ...study, widths: [16] }, out);
  assert.equal(redone?.trained, true);
  assert.deepEqual(redone?.result.losses, m16.result.losses, "the same settings give the same run");
  const metrics = await readFile(path.join(memberDir(out, 16), "metrics.jsonl"), "utf8");
  assert.doesNotMatch(metrics, /"loss": 9/);
});
