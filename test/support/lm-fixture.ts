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
