import { createRequire } from "node:module";
import { loadUseLiteVocabulary, loadUseLiteCheckpoint } from "./src/models/use-lite/weights.ts";
import { makeTokenizer, encode } from "./src/models/use-lite/tokenizer.ts";
import { loadUseLite, embedBatch, apply } from "./src/models/use-lite/model.ts";
import { read, refTree, jit, type Tensor } from "./src/engine/index.ts";
import type { Params } from "./src/core/tree.ts";
const require = createRequire(import.meta.url);
const texts: string[] = (require("sentiment/test/fixtures/yelp.json") as any[]).filter((r) => r.text).map((r) => r.text);
const tok = makeTokenizer(loadUseLiteVocabulary());
const m = await loadUseLite(loadUseLiteCheckpoint());
const mode = process.argv[2] ?? "eager";
const f = mode === "jit" ? jit((p: Params, x: Tensor, mask: Tensor) => apply(p, { x, mask }, m.constants)) : (p: Params, x: Tensor, mask: Tensor) => apply(p, { x, mask }, m.constants);
for (let rep = 0; rep < 4; rep++) {
  const { ids } = encode(tok, texts.slice(rep * 32, rep * 32 + 32));
  const b = embedBatch(m.frozen, ids, 48);
  const t0 = performance.now();
  const y = f(refTree(m.params), b.x, b.mask);
  const o = await read(y); y.dispose();
  const ms = performance.now() - t0;
  console.log(mode, rep, "ms", ms.toFixed(0), "sent/s", (32000 / ms).toFixed(1), o[0]);
}
