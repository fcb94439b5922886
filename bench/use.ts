// USE-lite benchmarks for bench/run.ts: lorascope's jitted encoder against the same encoder in
// PyTorch (bench/torch_use.py) at [batch 32, 32 tokens], 1 thread each (torch: 1 thread, OpenBLAS 1).
//
//   lorascope forward   bench/use-forward.ts 32 32 reps      median of the warm calls
//   lorascope train     bench/use-train.ts jit 32 12         warm median of the steps padded to 32
//                                                            (grouped sentiment batches; 3 warm at seed 0)
//   torch forward/train bench/torch_use.py --bench           one child times both
//   cross-check         bench/torch_use.py --check           torch's embeddings vs lorascope's
//
// The torch side reads the params, constants and a real sentence batch that bench/use_export.ts
// writes (useSetup, before the rounds) to a directory outside the repository.
// Configuration names start with "use"; `node --import tsx bench/run.ts --only use` runs just these.
import { execFileSync } from "node:child_process";
import os from "node:os";
import path from "node:path";
import { fmt, median, nodeBench } from "./stats.ts";

interface UseConfig { name: string; command: string[]; env?: Record<string, string>; once?: boolean }
type Result = Record<string, unknown>;

export const USE_EXPORT_DIR = path.join(os.tmpdir(), "lorascope-bench-use");
const B = 32;
const L = 32;

const node = (script: string, ...args: string[]): string[] => nodeBench(script, args);

/** Write the torch side's inputs (params, constants, sentence batch, lorascope's embeddings). */
export function useSetup(root: string): void {
  const [cmd, ...args] = node("use_export.ts", USE_EXPORT_DIR, "--batch", String(B), "--len", String(L));
  execFileSync(cmd as string, args, { cwd: root, stdio: ["ignore", "ignore", "inherit"] });
}

export function useConfigs(opts: { python: string; reps: number }): UseConfig[] {
  const torch = [opts.python, "bench/torch_use.py", "--threads", "1"];
  const blas1 = { OPENBLAS_NUM_THREADS: "1" };
  return [
    {
      name: "use-ls-forward",
      command: node("use-forward.ts", String(B), String(L), String(opts.reps)),
      env: { LORASCOPE_THREADS: "1" },
    },
    { name: "use-ls-train", command: node("use-train.ts", "jit", String(B), "12"), env: { LORASCOPE_THREADS: "1" } },
    {
      name: "use-ls-train-published",
      command: nodeBench("use-train.ts", ["jit", String(B), "12"], true),
      env: { LORASCOPE_THREADS: "1" },
    },
    {
      name: "use-torch",
      command: [
        ...torch,
        "--bench",
        USE_EXPORT_DIR,
        "--batch",
        String(B),
        "--len",
        String(L),
        "--reps",
        String(opts.reps),
      ],
      env: blas1,
    },
    { name: "use-torch-check", command: [...torch, "--check", USE_EXPORT_DIR], env: blas1, once: true },
  ];
}


/** The results table: ms per batch or step, median over rounds, and lorascope / torch. */
export function useReport(all: (name: string) => Result[]): string[] {
  const med = (name: string, pick: (r: Result) => number): number => {
    const vs = all(name).map(pick).filter(Number.isFinite);
    return vs.length > 0 ? median(vs) : NaN;
  };
  const lsForward = med("use-ls-forward", (r) => median((r["laterMs"] as number[] | undefined) ?? [NaN]));
  const warmStep = (r: Result): number =>
    (r["perL"] as Record<string, { warmMedian: number | null }> | undefined)?.[String(L)]?.warmMedian ?? NaN;
  const lsTrain = med("use-ls-train", warmStep);
  const lsTrainPublished = med("use-ls-train-published", warmStep);
  const tForward = med("use-torch", (r) => r["forwardMsPerBatch"] as number);
  const tTrain = med("use-torch", (r) => r["trainMsPerStep"] as number);
  const check = all("use-torch-check")[0];
  return [
    `Batch ${B} of real sentiment sentences padded to ${L} tokens; lorascope 1 engine thread, torch 1 thread with OpenBLAS 1. Train step: LoRA r 8, alpha 8 on q/k/v/o_proj, fc1, fc2 of both layers, head [2, 512], AdamW, cross-entropy.`,
    "",
    "| | lorascope ms | torch ms | lorascope / torch | lorascope per s | torch per s |",
    "|---|---|---|---|---|---|",
    `| frozen forward (per batch) | ${fmt(lsForward)} | ${fmt(tForward)} | ${fmt(lsForward / tForward, 2)} | ${fmt((B * 1000) / lsForward)} | ${fmt((B * 1000) / tForward)} |`,
    `| LoRA train step | ${fmt(lsTrain)} | ${fmt(tTrain)} | ${fmt(lsTrain / tTrain, 2)} | ${fmt((B * 1000) / lsTrain)} | ${fmt((B * 1000) / tTrain)} |`,
    `| LoRA train step, published jax-js (no patches/) | ${fmt(lsTrainPublished)} | ${fmt(tTrain)} | ${fmt(lsTrainPublished / tTrain, 2)} | ${fmt((B * 1000) / lsTrainPublished)} | ${fmt((B * 1000) / tTrain)} |`,
    "",
    check === undefined
      ? "Cross-check not run."
      : `Cross-check on the exported batch: max |Δ| ${Number(check["maxAbsDiff"]).toExponential(2)}, min cosine ${Number(check["minCosine"]).toFixed(7)} (torch vs lorascope embeddings).`,
  ];
}
