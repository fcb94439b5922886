// Export what bench/torch_use.py needs to run USE-lite in PyTorch and cross-check it against
// lorascope: the device params exactly as `paramsFromCheckpoint` builds them (PyTorch [out, in]
// layout, dotted module paths), a fixed batch of real sentiment sentences as x0 rows with their mask
// and labels, and lorascope's own frozen embeddings of that batch. Usage:
//   node --import tsx bench/use_export.ts OUTDIR [--batch 32] [--len 32]
// writes OUTDIR/use-lite.safetensors and OUTDIR/use-lite.json (the graph constants).
// Tensor names: the param paths (`layers.0.attention.q_proj.weight`, …), `input.x` [B, L, 256],
// `input.mask` [B, L], `input.labels` [B] (class ids as floats), `output.embedding` [B, 512].
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { read } from "../src/engine/index.ts";
import { cacheExamples, taskData } from "../src/experiments/encoder/finetune.ts";
import { writeSafetensors, type WriteTensor } from "../src/io/safetensors.ts";
import { apply, D_EMBED, loadUseLite, loadUseLiteCheckpoint, packBatch } from "../src/models/use-lite/index.ts";
import { flag } from "./stats.ts";

const outDir = process.argv[2];
if (outDir === undefined || outDir.startsWith("--"))
  throw new Error("usage: node --import tsx bench/use_export.ts OUTDIR [--batch 32] [--len 32]");
const B = flag("batch", 32);
const L = flag("len", 32);

const ckpt = loadUseLiteCheckpoint();
const model = await loadUseLite(ckpt); // model.params = paramsFromCheckpoint(ckpt)
// The first B training sentences (seed 0 split) that fit in L tokens: real text, no padding surprises.
const data = taskData({ task: "sentiment", seed: 0, limit: 8 * B });
const cached = cacheExamples(model, data.train);
const chosen = [...cached.rows.keys()]
  .filter((i) => (cached.rows[i] as Float32Array).length / D_EMBED <= L)
  .slice(0, B);
if (chosen.length < B) throw new Error(`only ${chosen.length} of ${8 * B} sentences fit in ${L} tokens`);
const rows = chosen.map((i) => cached.rows[i] as Float32Array);
const labels = Float32Array.from(chosen, (i) => cached.labels[i] as number);

// The same tensors the device sees: packBatch's x/mask and paramsFromCheckpoint's params, read back.
const { x, mask } = packBatch(rows, L);
const [xHost, maskHost] = [await read(x), await read(mask)];
const emb = apply(model.params, { x, mask }, model.constants); // [B, 512]; consumes params and batch
const embHost = await read(emb);
emb.dispose();

const tensors: Array<[string, WriteTensor]> = [...ckpt.params].map(([name, t]) => [
  name,
  { shape: t.shape, data: Float32Array.from(t.data) },
]);
tensors.push(
  ["input.x", { shape: [B, L, D_EMBED], data: xHost }],
  ["input.mask", { shape: [B, L], data: maskHost }],
  ["input.labels", { shape: [B], data: labels }],
  ["output.embedding", { shape: [B, 512], data: embHost }],
);
mkdirSync(outDir, { recursive: true });
await writeSafetensors(path.join(outDir, "use-lite.safetensors"), tensors);
const tokens = rows.map((r) => r.length / D_EMBED);
writeFileSync(
  path.join(outDir, "use-lite.json"),
  `${JSON.stringify({ ...model.constants, batch: B, len: L, tokens }, null, 2)}\n`,
);
console.log(
  JSON.stringify({
    outDir,
    tensors: tensors.length,
    batch: B,
    len: L,
    meanTokens: +(tokens.reduce((a, b) => a + b, 0) / B).toFixed(1),
    constants: model.constants,
  }),
);
