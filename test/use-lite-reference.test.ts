// The re-implemented USE-lite against the original TF.js graph (model.json + shards, run by
// @tensorflow/tfjs's pure-JS CPU backend, dev dependency, loaded from the local files through an
// in-memory IO handler — no network), on 51 short real sentences and one longer than 128 tokens.
// The TF.js CPU backend runs at ~1 GFLOP/s, so the comparison uses short sentences.
// Token ids are compared with the reference tokenizer in test/use-lite-tokenizer.test.ts: that
// package (@energetic-ai/embeddings) bundles its own TF.js core, which takes over TF.js's global
// engine when loaded, so the two references live in separate test processes.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { test } from "node:test";
import * as tf from "@tensorflow/tfjs";
import { read, refTree } from "../src/engine/index.ts";
import { apply, embedBatch, loadUseLite } from "../src/models/use-lite/model.ts";
import { encode, encodeAll, makeTokenizer } from "../src/models/use-lite/tokenizer.ts";
import {
  loadUseLiteCheckpoint,
  loadUseLiteModelJson,
  loadUseLiteVocabulary,
  useLitePackageDir,
} from "../src/models/use-lite/weights.ts";

const require = createRequire(import.meta.url);
const dir = useLitePackageDir();
const vocab = loadUseLiteVocabulary(dir);
const tok = makeTokenizer(vocab);

interface Row {
  text: string;
  class: number | null;
}
const files = ["imdb", "yelp", "amazon"] as const;
const fixtures = files.map((f) => (require(`sentiment/test/fixtures/${f}.json`) as Row[]).filter((r) => r.text !== ""));

/** Cosine similarity of rows b of two [n, 512] matrices. */
function cosine(a: Float32Array, b: Float32Array, row: number): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let j = row * 512; j < (row + 1) * 512; j++) {
    dot += (a[j] as number) * (b[j] as number);
    na += (a[j] as number) ** 2;
    nb += (b[j] as number) ** 2;
  }
  return dot / Math.sqrt(na * nb);
}

/** The original graph, loaded by TF.js from the package's files through an in-memory IO handler. */
async function referenceModel(): Promise<tf.GraphModel> {
  await tf.setBackend("cpu");
  const json = loadUseLiteModelJson(dir);
  const group = json.weightsManifest[0];
  assert.ok(group !== undefined && json.weightsManifest.length === 1);
  const bytes = Buffer.concat(group.paths.map((p) => readFileSync(path.join(dir, p))));
  const weightData = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  return tf.loadGraphModel({
    load: async (): Promise<tf.io.ModelArtifacts> => ({
      modelTopology: json.modelTopology as object,
      weightSpecs: group.weights as tf.io.WeightsManifestEntry[],
      weightData,
      format: "graph-model",
    }),
  });
}

/** The graph's inputs: sparse (sentence, position) indices and token ids, as the reference builds them. */
async function referenceEmbed(model: tf.GraphModel, ids: readonly (readonly number[])[]): Promise<Float32Array> {
  const indices: number[][] = [];
  const values: number[] = [];
  ids.forEach((s, i) => s.forEach((v, j) => (indices.push([i, j]), values.push(v))));
  const inputs = { indices: tf.tensor2d(indices, [indices.length, 2], "int32"), values: tf.tensor1d(values, "int32") };
  const out = (await model.executeAsync(inputs)) as tf.Tensor;
  const data = (await out.data()) as Float32Array;
  tf.dispose([out, inputs.indices, inputs.values]);
  return data;
}

test("embeddings match the original TF.js graph (cosine ≥ 0.9999 per sentence)", { timeout: 240_000 }, async () => {
  // 17 short sentences (4–10 tokens) spread evenly over each of the three files: 51 in all, at
  // least one with an unknown piece.
  const short: string[] = [];
  for (const rows of fixtures) {
    const fit = rows.map((r) => r.text).filter((t) => {
      const n = encodeAll(tok, t).length;
      return n >= 4 && n <= 10;
    });
    for (let k = 0; k < 17; k++) short.push(fit[Math.floor((k * fit.length) / 17)] as string);
  }
  const { ids } = encode(tok, short);
  assert.equal(ids.length, 51);
  // The one sentiment sentence longer than 128 tokens: the graph drops positions ≥ 128 itself, we
  // truncate in the tokenizer; the two must agree.
  const longText = fixtures.flat().map((r) => r.text).find((t) => encodeAll(tok, t).length > 128);
  assert.ok(longText !== undefined);
  const longAll = encodeAll(tok, longText);
  const longCut = encode(tok, [longText]);
  assert.equal(longCut.truncated, 1);

  const model = await referenceModel();
  const refShort = await referenceEmbed(model, ids);
  const refLong = await referenceEmbed(model, [longAll]);
  model.dispose();

  const m = await loadUseLite(loadUseLiteCheckpoint(dir));
  const yShort = apply(refTree(m.params), embedBatch(m.frozen, ids), m.constants); // borrows the tree
  const oursShort = await read(yShort);
  yShort.dispose();
  const yLong = apply(m.params, embedBatch(m.frozen, longCut.ids), m.constants); // consumes it
  const oursLong = await read(yLong);
  yLong.dispose();

  const cosines = ids.map((_, b) => cosine(oursShort, refShort, b));
  const worst = Math.min(...cosines);
  const worstAt = cosines.indexOf(worst);
  assert.ok(worst >= 0.9999, `cosine ${worst} for ${JSON.stringify(short[worstAt])}`);
  const longCos = cosine(oursLong, refLong, 0);
  assert.ok(longCos >= 0.9999, `cosine ${longCos} for the ${longAll.length}-token sentence`);
  // Not a tautology: different sentences are far apart in this embedding.
  assert.ok(cosine(oursShort, refShort.subarray(512), 0) < 0.9);
  console.log(
    `USE-lite vs TF.js graph: min cosine ${worst} over ${ids.length} sentences, ${longCos} on a ${longAll.length}-token one`,
  );
});
