// Language-model benchmark child for bench/run.ts (`--only lm`): LoRA training tokens/s (forward +
// backward + AdamW on the LoRA factors, one jitted step) and KV-cached greedy generation tokens/s, for
// the bundled stories260K or a random Llama of stories15M's shape; bench/torch_lm.py is the same work
// in PyTorch. Prints one JSON line: medians over the timed repeats and the process's peak RSS.
//
//   node --import tsx bench/lm.ts --model stories260K|llama15m --mode train|gen [--batch 4] [--reps 3] [--warmup 1]
//
// The token batch is `(1 + 37·i) mod vocab` ([batch, 256], the same ids in torch_lm.py), so for
// stories260K (same weights on both sides, B = 0 at the start) the first loss is a cross-check.
// The 15 M model trains at batch 1: at [4, 256] its jitted step's intermediates (a dozen [B, T, 32000]
// float32 buffers of the loss and its backward among them) exceed the 4 GiB wasm32 heap.
import * as prng from "../src/core/prng.ts";
import { disposeTree, engineThreads, initEngine, np, type Tensor } from "../src/engine/index.ts";
import { loadLm } from "../src/io/lm-model.ts";
import { loraConfig, scaling } from "../src/lora/config.ts";
import { injectLora } from "../src/lora/inject.ts";
import { context } from "../src/lora/linear.ts";
import { generate } from "../src/models/generate.ts";
import { causalLmLoss, initLm, logits, parseLmConfig, type LmConfig } from "../src/models/lm.ts";
import { adamw } from "../src/optim/index.ts";
import { createJitTrainer } from "../src/train/jit-trainer.ts";
import type { Params } from "../src/core/tree.ts";
import { flag, median, report } from "./stats.ts";

export const LM_BENCH = { seq: 256, newTokens: 128, r: 8, alpha: 16, targets: ["q_proj", "k_proj", "v_proj", "o_proj"] };

/** stories15M's shape (llama2.c tinyllamas): dim 288, 6 layers, 6 heads, hidden 768, vocab 32000, seq 256. */
export const LLAMA_15M = {
  model_type: "llama", vocab_size: 32000, hidden_size: 288, intermediate_size: 768, num_hidden_layers: 6,
  num_attention_heads: 6, num_key_value_heads: 6, max_position_embeddings: 256, rms_norm_eps: 1e-5,
  tie_word_embeddings: true,
};

const arg = (name: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) throw new Error(`--${name} is required`);
  return String(process.argv[i + 1]);
};

async function model(name: string): Promise<{ config: LmConfig; params: Params }> {
  if (name === "stories260K") return loadLm(name);
  if (name === "llama15m") {
    // --vocab / --layers / --dim / --seq-positions override the shape (the memory probe in bench/NOTES.md).
    const shape = {
      ...LLAMA_15M,
      vocab_size: flag("vocab", LLAMA_15M.vocab_size),
      num_hidden_layers: flag("layers", LLAMA_15M.num_hidden_layers),
      hidden_size: flag("dim", LLAMA_15M.hidden_size),
      intermediate_size: flag("ffn", LLAMA_15M.intermediate_size),
    };
    const config = parseLmConfig(shape);
    return { config, params: initLm(prng.key(0), config) };
  }
  throw new Error(`unknown model ${name}`);
}

function batchIds(V: number, batch: number): Tensor {
  const { seq } = LM_BENCH;
  return np.array(Int32Array.from({ length: batch * seq }, (_, i) => (1 + 37 * i) % V)).reshape([batch, seq]);
}

async function train(
  config: LmConfig,
  params: Params,
  { reps, warmup, batch }: { reps: number; warmup: number; batch: number },
): Promise<Record<string, unknown>> {
  const cfg = loraConfig({ r: LM_BENCH.r, lora_alpha: LM_BENCH.alpha, target_modules: LM_BENCH.targets });
  const injected = await injectLora(prng.key(1), params, cfg);
  const ctx = context({ scaling: scaling(cfg) });
  const trainer = createJitTrainer({
    loss: (p, ids) => causalLmLoss(logits(p, (ids).ref, config, ctx), ids).loss,
    optimizer: adamw({ lr: 1e-3, weightDecay: 0.01 }),
    trainable: injected.trainable,
  });
  let state = trainer.init(injected.params);
  const tokens = batch * LM_BENCH.seq;
  const times: number[] = [];
  let loss1 = NaN;
  for (let i = 0; i < warmup + reps; i++) {
    const t0 = performance.now();
    const out = await trainer.step(state, batchIds(config.vocabSize, batch)); // the loss read forces the step
    state = out.state;
    if (i === 0) loss1 = out.loss;
    if (i >= warmup) times.push((performance.now() - t0) / 1000);
  }
  disposeTree(trainer.params(state));
  return { tokensPerSecond: tokens / median(times), secondsPerStep: times, loss1, batch };
}

async function gen(config: LmConfig, params: Params, reps: number, warmup: number): Promise<Record<string, unknown>> {
  const rates: number[] = [];
  let tokens: number[] = [];
  for (let i = 0; i < warmup + reps; i++) {
    const out = await generate(params, config, [1], {
      temperature: 0, topP: 1, seed: 0, maxNewTokens: LM_BENCH.newTokens, eosId: undefined,
    });
    tokens = out.tokens;
    if (i >= warmup) rates.push(out.tokens.length / out.seconds);
  }
  disposeTree(params);
  return { tokensPerSecond: median(rates), rates, firstTokens: tokens.slice(0, 8) };
}

if (import.meta.url.endsWith(process.argv[1]?.replace(/^.*\//, "/") ?? "")) {
  await initEngine();
  const name = arg("model");
  const mode = arg("mode");
  const reps = flag("reps", 3);
  const warmup = flag("warmup", 1);
  const { config, params } = await model(name);
  const batch = flag("batch", 4);
  const result = mode === "train" ? await train(config, params, { reps, warmup, batch }) : await gen(config, params, reps, warmup);
  const mem = process.memoryUsage();
  report({
    model: name, mode, threads: engineThreads(), ...result,
    peakRssMiB: process.resourceUsage().maxRSS / 1024, externalMiB: mem.external / 2 ** 20,
  });
}
