// The Llama / GPT-2 reference fixtures (scripts/fixtures/make_lm_fixtures.py → test/fixtures/lm/):
// readers and the error measure the model tests share.
import { readFileSync } from "node:fs";
import path from "node:path";
import { np, type Tensor } from "../../src/engine/index.ts";

export const LM_FIXTURES = path.resolve(import.meta.dirname, "../fixtures/lm");

export interface LmReference {
  ids: number[][];
  logits: number[];
  logits_shape: number[];
  loss: number;
  mask: number[][];
  masked_loss: number;
}

export interface PeftStep {
  ids: number[][];
  r: number;
  lora_alpha: number;
  target_modules: string[];
  fan_in_fan_out: boolean;
  loss: number;
  factors: Record<string, { shape: number[]; data: number[] }>;
  grads: Record<string, number[]>;
}

export function reference(name: string): LmReference {
  return JSON.parse(readFileSync(path.join(LM_FIXTURES, name, "reference.json"), "utf8")) as LmReference;
}

export function peftStep(name: string): PeftStep {
  return JSON.parse(readFileSync(path.join(LM_FIXTURES, name), "utf8")) as PeftStep;
}

/** int32 ids [B, T]. */
export function idsTensor(ids: number[][]): Tensor {
  return np.array(Int32Array.from(ids.flat())).reshape([ids.length, (ids[0] as number[]).length]);
}

export function maskTensor(mask: number[][]): Tensor {
  return np.array(Float32Array.from(mask.flat())).reshape([mask.length, (mask[0] as number[]).length]);
}

/** max |got − want| / max |want|: the error relative to the reference's scale. */
export function relError(got: ArrayLike<number>, want: ArrayLike<number>): number {
  if (got.length !== want.length) throw new Error(`length ${got.length} ≠ ${want.length}`);
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < want.length; i++) {
    diff = Math.max(diff, Math.abs((got[i] as number) - (want[i] as number)));
    scale = Math.max(scale, Math.abs(want[i] as number));
  }
  return diff / scale;
}

/**
 * Run a PEFT step fixture in lorascope: load the base folder, put the fixture's lora_A/lora_B at the
 * module paths their PEFT keys name, and take the loss (labels = ids) and its gradient with respect
 * to the factors only. Returns the loss and the max relative gradient error over all factors.
 */
export async function runPeftStep(
  fixture: string,
  baseDir: string,
): Promise<{ loss: number; want: number; gradError: number; keys: string[] }> {
  const { loadCausalLM } = await import("../../src/io/hf-checkpoint.ts");
  const { logits, causalLmLoss } = await import("../../src/models/lm.ts");
  const { setPath, partition, combine } = await import("../../src/core/tree.ts");
  const { context } = await import("../../src/lora/linear.ts");
  const { tensor, valueAndGrad, read, readScalar } = await import("../../src/engine/index.ts");
  const { getPath } = await import("../../src/core/tree.ts");
  const step = peftStep(fixture);
  const { config, params: base } = await loadCausalLM(path.join(LM_FIXTURES, baseDir));
  let params = base;
  const paths: string[] = [];
  for (const [key, f] of Object.entries(step.factors)) {
    const p = key.replace(/^base_model\.model\./, "");
    paths.push(p);
    params = setPath(params, p, tensor(Float32Array.from(f.data), f.shape));
  }
  const [trainable, frozen] = partition(params, (p) => /\.lora_[AB]\.weight$/.test(p));
  const ctx = context({ scaling: step.lora_alpha / step.r });
  const lossOf = (t: typeof trainable, fz: typeof frozen): Tensor => {
    const ids = idsTensor(step.ids);
    return causalLmLoss(logits(combine(t, fz), ids.ref, config, ctx), ids).loss;
  };
  const [loss, grads] = valueAndGrad(lossOf)(trainable, frozen);
  let gradError = 0;
  for (const p of paths) {
    const g = await read(getPath(grads, p) as Tensor);
    gradError = Math.max(gradError, relError(g, step.grads[`base_model.model.${p}`] as number[]));
  }
  return { loss: await readScalar(loss), want: step.loss, gradError, keys: paths };
}
