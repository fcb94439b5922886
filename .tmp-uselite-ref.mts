import * as tf from "@tensorflow/tfjs";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { loadUseLiteModelJson, useLitePackageDir, loadUseLiteVocabulary, loadUseLiteCheckpoint } from "/work/main/src/models/use-lite/weights.ts";
import { makeTokenizer, encode } from "/work/main/src/models/use-lite/tokenizer.ts";
import { loadUseLite, embedBatch, apply } from "/work/main/src/models/use-lite/model.ts";
import { read, refTree, jit } from "/work/main/src/engine/index.ts";
const require = createRequire("/work/main/test/x.js");
await tf.setBackend("cpu");
const dir = useLitePackageDir();
const mj = loadUseLiteModelJson(dir);
const shards = mj.weightsManifest[0]!.paths.map((p) => readFileSync(`${dir}/${p}`));
const buf = Buffer.concat(shards);
const weightData = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
let t0 = performance.now();
const model = await tf.loadGraphModel({ load: async () => ({ modelTopology: mj.modelTopology as any, weightSpecs: mj.weightsManifest.flatMap((g) => g.weights) as any, weightData, format: "graph-model" }) });
console.log("tf load ms", performance.now() - t0);
const texts: string[] = (require("sentiment/test/fixtures/yelp.json") as any[]).filter((r) => r.text).map((r) => r.text).slice(0, 50);
const tok = makeTokenizer(loadUseLiteVocabulary(dir));
const { ids } = encode(tok, texts);
const indices: number[][] = []; const values: number[] = [];
ids.forEach((s, i) => s.forEach((v, j) => { indices.push([i, j]); values.push(v); }));
t0 = performance.now();
const out = (await model.executeAsync({ indices: tf.tensor2d(indices, [indices.length, 2], "int32"), values: tf.tensor1d(values, "int32") })) as tf.Tensor;
const refEmb = await out.data();
console.log("tf exec ms", performance.now() - t0, out.shape, "tokens", values.length);
const m = await loadUseLite(loadUseLiteCheckpoint(dir));
t0 = performance.now();
const y = apply(refTree(m.params), embedBatch(m.frozen, ids), m.constants);
const ours = await read(y); y.dispose();
console.log("ours ms", performance.now() - t0);
let minCos = 1;
for (let b = 0; b < texts.length; b++) {
  let d = 0, na = 0, nb = 0;
  for (let j = 0; j < 512; j++) { const a = ours[b * 512 + j]!, c = refEmb[b * 512 + j]!; d += a * c; na += a * a; nb += c * c; }
  minCos = Math.min(minCos, d / Math.sqrt(na * nb));
}
console.log("min cos", minCos, ours.slice(0, 4), refEmb.slice(0, 4));
