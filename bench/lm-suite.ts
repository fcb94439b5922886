// Language-model configurations for bench/run.ts (`--only lm`): LoRA training and KV-cached greedy
// generation, lorascope (bench/lm.ts) beside PyTorch (bench/torch_lm.py, /work/venv's torch 2.13 with
// transformers and PEFT) on the same model, for the bundled stories260K and a random Llama of
// stories15M's shape. Training runs lorascope on both cores (2 engine threads); generation, which is
// dispatch-bound, on 1 and 2; torch at 1 and 2 threads, the better one counting as its best setting.
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { median } from "./stats.ts";

interface LmConfig { name: string; command: string[]; env?: Record<string, string>; timeoutMs?: number }
type Result = Record<string, unknown>;

export const LM_TORCH_PYTHON = "/work/venv/bin/python";
/** The converted stories260K folder torch_lm.py loads (written once, outside the repository). */
export const LM_EXPORT_DIR = path.join(os.tmpdir(), "lorascope-bench-lm", "stories260K");
// Training batch per model: the 15 M model's step at [4, 256] does not fit the 4 GiB wasm32 heap (bench/lm.ts).
const MODELS = [["stories260K", "260k", 4], ["llama15m", "15m", 1]] as const;

const node = (...args: string[]): string[] => [process.execPath, "--import", "tsx", "bench/lm.ts", ...args];

/** Write the converted stories260K folder for the torch side, unless it is there. */
export function lmSetup(root: string): void {
  if (existsSync(path.join(LM_EXPORT_DIR, "model.safetensors"))) return;
  execFileSync(
    process.execPath,
    ["--import", "tsx", "src/cli/main.ts", "convert", "llama2c", "--checkpoint", "assets/stories260K/stories260K.bin",
      "--tokenizer", "assets/stories260K/tok512.bin", "--out", LM_EXPORT_DIR],
    { cwd: root, stdio: ["ignore", "ignore", "inherit"] },
  );
}

export function lmConfigs(opts: { reps: number }): LmConfig[] {
  const reps = ["--reps", String(opts.reps), "--warmup", "1"];
  const out: LmConfig[] = [];
  for (const [model, tag, batch] of MODELS) {
    const torchModel = model === "stories260K" ? [model, LM_EXPORT_DIR] : [model];
    const torch = (mode: string, t: number): LmConfig => ({
      name: `lm-${mode}-${tag}-torch-${t}t`,
      command: [LM_TORCH_PYTHON, "bench/torch_lm.py", "--model", ...torchModel, "--mode", mode, "--threads", String(t),
        "--batch", String(batch), ...reps],
      env: { OMP_NUM_THREADS: String(t) },
      timeoutMs: 1_800_000,
    });
    const ls = (mode: string, t: number): LmConfig => ({
      name: `lm-${mode}-${tag}-ls-${t}t`,
      command: node("--model", model, "--mode", mode, "--batch", String(batch), ...reps),
      env: { LORASCOPE_THREADS: String(t) },
      timeoutMs: 1_800_000,
    });
    out.push(ls("train", 2), torch("train", 1), torch("train", 2));
    out.push(ls("gen", 1), ls("gen", 2), torch("gen", 1), torch("gen", 2));
  }
  return out;
}

const fmt = (v: number, d = 0): string => (Number.isFinite(v) ? v.toFixed(d) : "–");

/** Tables: tokens/s (median over rounds of each child's median), ratios to torch's best, peak RSS. */
export function lmReport(all: (name: string) => Result[]): string[] {
  const med = (name: string, key: string): number => {
    const vs = all(name).map((r) => r[key] as number).filter(Number.isFinite);
    return vs.length > 0 ? median(vs) : NaN;
  };
  const lines: string[] = [];
  for (const [model, tag, batch] of MODELS) {
    lines.push(`### ${model === "stories260K" ? "stories260K (260 K parameters)" : "random Llama, stories15M's shape (15.2 M parameters)"}`, "");
    lines.push("| work | configuration | tokens/s | ratio to torch's best | peak RSS (MiB) |", "|---|---|---|---|---|");
    for (const mode of ["train", "gen"] as const) {
      const torchBest = Math.max(med(`lm-${mode}-${tag}-torch-1t`, "tokensPerSecond"), med(`lm-${mode}-${tag}-torch-2t`, "tokensPerSecond"));
      const rows = mode === "train"
        ? [["ls-2t", "lorascope, 2 engine threads"], ["torch-1t", "PyTorch, 1 thread"], ["torch-2t", "PyTorch, 2 threads"]]
        : [["ls-1t", "lorascope, 1 engine thread"], ["ls-2t", "lorascope, 2 engine threads"], ["torch-1t", "PyTorch, 1 thread"], ["torch-2t", "PyTorch, 2 threads"]];
      for (const [suffix, label] of rows) {
        const name = `lm-${mode}-${tag}-${suffix}`;
        const tps = med(name, "tokensPerSecond");
        const failed = all(name).find((r) => typeof r["error"] === "string")?.["error"] as string | undefined;
        if (failed !== undefined) {
          lines.push(`| ${mode === "train" ? `LoRA training [${batch}, 256]` : "greedy generation, 128 tokens"} | ${label} | failed: ${failed.replace(/\|/g, "/")} | – | – |`);
          continue;
        }
        const work = mode === "train" ? `LoRA training [${batch}, 256]` : "greedy generation, 128 tokens";
        lines.push(`| ${work} | ${label} | ${fmt(tps, 1)} | ${fmt(tps / torchBest, 2)} | ${fmt(med(name, "peakRssMiB"))} |`);
      }
    }
    const loss = (name: string): string => {
      const v = med(name, "loss1");
      return Number.isFinite(v) ? v.toPrecision(7) : "–";
    };
    const first = (name: string): string => JSON.stringify(all(name)[0]?.["firstTokens"] ?? "–");
    lines.push(
      "",
      `Cross-check: first loss lorascope ${loss(`lm-train-${tag}-ls-2t`)}, torch ${loss(`lm-train-${tag}-torch-1t`)}` +
        (model === "stories260K" ? " (same weights, B = 0)" : " (different random weights: not comparable)") +
        `; first greedy tokens lorascope ${first(`lm-gen-${tag}-ls-1t`)}, torch ${first(`lm-gen-${tag}-torch-1t`)}.`,
      "",
    );
  }
  return lines;
}
