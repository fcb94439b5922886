// `lorascope merge` and `lorascope generate` end to end. The merged folders are checked against
// transformers (scripts/fixtures/make_lm_merge_fixture.py loaded folders this command wrote from the
// committed adapters in test/fixtures/lm/merge/ and recorded their loss) and against lorascope's own
// adapter-on-base loss; GPT-2's Conv1D weights must come back in the source's [in, out] layout.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { disposeTree, initEngine, readScalar, refTree } from "../src/engine/index.ts";
import { loadCausalLM, openHfCheckpoint } from "../src/io/hf-checkpoint.ts";
import { loadLm, withAdapter } from "../src/io/lm-model.ts";
import { loadAdapter } from "../src/io/peft.ts";
import { scaling } from "../src/lora/config.ts";
import { context } from "../src/lora/linear.ts";
import { causalLmLoss, logits } from "../src/models/lm.ts";
import type { Ctx } from "../src/nn/context.ts";
import type { Params } from "../src/core/tree.ts";
import type { LmConfig } from "../src/models/lm.ts";
import { lorascope } from "./support/cli.ts";
import { LM_FIXTURES, idsTensor } from "./support/lm-fixture.ts";

const MERGE = path.join(LM_FIXTURES, "merge");
interface Case { ids: number[][]; mergedLoss: number; peftLoss: number; baseLoss: number }
const fixture = JSON.parse(readFileSync(path.join(MERGE, "merge.json"), "utf8")) as Record<string, Case>;
// float32 throughout; the two sides sum in different orders (measured ≤ 2e-6 on these losses).
const TOL = 1e-4;

async function loss(params: Params, cfg: LmConfig, ids: number[][], ctx?: Ctx): Promise<number> {
  return readScalar(causalLmLoss(logits(params, idsTensor(ids), cfg, ctx), idsTensor(ids)).loss);
}

for (const [name, model] of [["stories260k", "stories260K"], ["gpt2", path.join(LM_FIXTURES, "gpt2")]] as const) {
  test(`merge ${name}: the folder's loss is transformers' and equals the adapter on the base`, async () => {
    await initEngine();
    const c = fixture[name] as Case;
    const adapterDir = path.join(MERGE, name);
    const tmp = await mkdtemp(path.join(tmpdir(), "lorascope-merge-"));
    try {
      const out = path.join(tmp, "merged");
      const run = await lorascope("merge", "--model", model, "--adapter", adapterDir, "--out", out);
      assert.equal(run.code, 0, run.stderr);
      const merged = await loadCausalLM(out);
      const mergedLoss = await loss(refTree(merged.params), merged.config, c.ids);
      const vsTransformers = Math.abs(mergedLoss / c.mergedLoss - 1);
      assert.ok(vsTransformers < TOL, `merged folder ${mergedLoss} vs transformers ${c.mergedLoss}`);
      const base = await loadLm(model);
      const adapter = await loadAdapter(adapterDir);
      const unmerged = withAdapter(base.params, adapter, adapterDir, base.name);
      const ctx = context({ scaling: scaling(adapter.config) });
      const adapterLoss = await loss(refTree(unmerged), base.config, c.ids, ctx);
      assert.ok(Math.abs(mergedLoss / adapterLoss - 1) < TOL, `merged ${mergedLoss} vs adapter on base ${adapterLoss}`);
      assert.ok(Math.abs(adapterLoss / c.peftLoss - 1) < TOL, `adapter on base ${adapterLoss} vs PEFT ${c.peftLoss}`);
      assert.ok(Math.abs(mergedLoss / c.baseLoss - 1) > 0.01, "the adapter changes the loss");
      // Same tensor names and file shapes as the source (GPT-2: "transformer." keys, c_attn [in, out]).
      const written = await openHfCheckpoint(out);
      const shapes = new Map([...written.shapes].map(([k, s]) => [k, [...s]]));
      await written.close();
      assert.deepEqual([...shapes.keys()].sort(), [...base.keys].sort());
      if (name === "gpt2") assert.deepEqual(shapes.get("transformer.h.0.attn.c_attn.weight"), [32, 96]);
      const files = (await readdir(out)).sort();
      assert.deepEqual(
        files,
        name === "gpt2"
          ? ["config.json", "generation_config.json", "model.safetensors", "reference.json"] // every other file is copied
          : ["config.json", "generation_config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"],
      );
      disposeTree(merged.params);
      disposeTree(unmerged);
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  });
}

test("merge refuses a non-empty --out before loading, and an adapter made for another model in one sentence", async () => {
  const tmp = await mkdtemp(path.join(tmpdir(), "lorascope-merge-bad-"));
  try {
    const full = path.join(tmp, "full");
    await mkdir(full);
    await writeFile(path.join(full, "x"), "");
    const nonEmpty = await lorascope("merge", "--model", "stories260K", "--adapter", path.join(MERGE, "stories260k"), "--out", full);
    assert.equal(nonEmpty.code, 2);
    assert.match(nonEmpty.stderr, /full is not empty \(1 entries\); give --out a new or empty folder/);
    const other = await lorascope("merge", "--model", "stories260K", "--adapter", path.join(MERGE, "gpt2"), "--out", path.join(tmp, "o"));
    assert.equal(other.code, 1);
    assert.match(
      other.stderr,
      /^lorascope merge: the adapter in .*gpt2 was not made for stories260K: it adapts "transformer\.h\.0\.attn\.c_attn", which the model does not have\n$/,
    );
    assert.deepEqual(await readdir(tmp), ["full"], "nothing was written");
    const noModel = await lorascope("generate", "--model", path.join(tmp, "nope"), "--prompt", "x");
    assert.equal(noModel.code, 2);
    assert.match(noModel.stderr, /--model .*nope is neither "stories260K" .*nor an existing folder/);
    const topP = await lorascope("generate", "--model", "stories260K", "--top-p", "1.5");
    assert.equal(topP.code, 2);
    assert.match(topP.stderr, /--top-p must be at most 1, got 1\.5/);
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
});

test("generate streams the text that --json returns; greedy from a prompt follows llama2.c's story", async () => {
  const args = ["generate", "--model", "stories260K", "--prompt", "Once upon a time", "--max-new-tokens", "20", "--temperature", "0"];
  const [streamed, json] = await Promise.all([lorascope(...args), lorascope(...args, "--json")]);
  assert.equal(streamed.code, 0, streamed.stderr);
  assert.equal(json.code, 0, json.stderr);
  const doc = JSON.parse(json.stdout) as { text: string; tokens: number[]; tokensPerSecond: number; finish: string };
  assert.equal(streamed.stdout, doc.text + "\n");
  assert.ok(doc.text.startsWith("Once upon a time, there was a little girl named Lily."), doc.text);
  assert.equal(doc.tokens.length, 20);
  assert.equal(doc.finish, "length");
  assert.ok(doc.tokensPerSecond > 0);
  assert.match(streamed.stderr, /20 tokens \(length\), [\d.]+ tokens\/s/);
});
