// Toy-sweep benchmarks for bench/run.ts: what batching the K adapters of one (width, seed) buys, and
// how far each configuration sits from this machine's floor.
//
// 1. A 24-run sweep (init-a/init-b × 12 learning rates 2^-11…2^-1) at n = 1024 and n = 4096, T = 50,
//    N = 1000 full batch, timed five ways: lorascope batched (bench/toy-sweep.ts), lorascope one run
//    per trainer call (same code, spec.batchAdapters = false), a PEFT-style PyTorch loop
//    (bench/torch_toy_loop.py: nn.Module + autograd + torch.optim.Adam, whole student forward each
//    step), the same loop fed cached frozen features (--cache-frozen: the batching effect alone), and
//    PyTorch running lorascope's batched algorithm (bench/torch_toy_batched.py). Torch runs at
//    torch 1 thread with OpenBLAS 1 and 2 threads; the tables flag the faster.
// 2. The whole default `reproduce` spec (7 widths × 3 seeds × 32 runs): lorascope as one process
//    (bench/toy-spec-run.ts) against torch batched and the torch loop on the same grid; the loop is
//    timed on 2 runs per width and extrapolated (said so in the table). Run once, not every round.
// 3. The per-step floor of the batched step (bench/floor.ts measures bandwidth and matmul rate).
//
// Configuration names start with "toy"; `node --import tsx bench/run.ts --only toy` runs just these.
import { fmt, median, nodeBench, publishedEngineEnv } from "./stats.ts";

export interface ToyConfig {
  name: string;
  command: string[];
  env?: Record<string, string>;
  /** Run in the first round only (whole-spec runs take minutes). */
  once?: boolean;
  /** Child time limit (ms); bench/run.ts's default otherwise. */
  timeoutMs?: number;
}

type Result = Record<string, unknown>;

export const TOY = { widths: [1024, 4096], runs: 24, steps: 50, N: 1000, r: 4 } as const;
const QUICK = { widths: [64, 128], runs: 4, steps: 5 } as const;
const BLAS = [1, 2] as const;
/** lorascope's default maxChunkElems (src/experiments/toy/spec.ts): sets the chunk size K per trainer chunk. */
const MAX_CHUNK_ELEMS = 2 ** 25;

/** Adapters per chunk for K runs at width n (src/train/toy-trainer.ts chunkSize). */
function chunking(K: number, n: number): { size: number; chunks: number } {
  const cap = Math.max(1, Math.floor(MAX_CHUNK_ELEMS / (TOY.N * n)));
  const chunks = Math.ceil(K / cap);
  return { size: Math.ceil(K / chunks), chunks };
}

/** Child configurations; `quick` shrinks every size so the scripts are only exercised. */
export function toyConfigs(opts: { quick: boolean; python: string }): ToyConfig[] {
  const node = (script: string, ...args: string[]): string[] => nodeBench(script, args);
  const py = (script: string, ...args: string[]): string[] => [
    opts.python,
    `bench/${script}`,
    "--threads",
    "1",
    ...args,
  ];
  const s = opts.quick ? QUICK : TOY;
  const out: ToyConfig[] = [];
  const one = { LORASCOPE_THREADS: "1" };
  for (const n of s.widths) {
    const size = ["--width", String(n), "--runs", String(s.runs), "--steps", String(s.steps)];
    // The PEFT-style loop at 4096 costs minutes per 24 runs: time a quarter of them (same shapes) and scale.
    const measure = !opts.quick && n >= 4096 ? ["--measure", "6"] : [];
    out.push({ name: `toy-n${n}-ls-batched`, command: node("toy-sweep.ts", ...size, "--reps", "2"), env: one });
    out.push({
      name: `toy-n${n}-ls-batched-published`,
      command: nodeBench("toy-sweep.ts", [...size, "--reps", "2"], true),
      env: one,
    });
    out.push({
      name: `toy-n${n}-ls-single`,
      command: node("toy-sweep.ts", ...size, "--reps", "2", "--one-at-a-time"),
      env: one,
    });
    for (const b of BLAS) {
      const env = { OPENBLAS_NUM_THREADS: String(b) };
      out.push({ name: `toy-n${n}-torch-loop-blas${b}`, command: py("torch_toy_loop.py", ...size, ...measure), env });
      out.push({
        name: `toy-n${n}-torch-loopcached-blas${b}`,
        command: py("torch_toy_loop.py", ...size, "--cache-frozen", "--reps", "2"),
        env,
      });
      out.push({
        name: `toy-n${n}-torch-batched-blas${b}`,
        command: py("torch_toy_batched.py", ...size, "--reps", "2"),
        env,
      });
    }
  }
  const shapes = s.widths.map((n) => `${chunking(s.runs, n).size * TOY.r}x${n}x${TOY.N}`).join(",");
  out.push({ name: "toy-floor", command: node("floor.ts", "--shapes", shapes), env: one });
  // Per-stage times of one batched step at each width's chunk size (what the floor table is missing).
  for (const n of s.widths) {
    out.push({
      name: `toy-stages-n${n}`,
      command: node(
        "toy-stages.ts",
        "--width",
        String(n),
        "--k",
        String(chunking(s.runs, n).size),
        "--reps",
        opts.quick ? "1" : "5",
      ),
      env: one,
      once: true,
    });
  }
  // Whole default spec, once. Quick: a 2-width, 1-seed, 3-step grid.
  const lsArgs = opts.quick ? ["--", "--widths", "64,128", "--seeds", "1", "--steps", "3"] : [];
  const pyArgs = opts.quick
    ? ["--spec-widths", "64,128", "--spec-seeds", "1", "--steps", "3"]
    : ["--steps", String(TOY.steps)];
  const long = { once: true, timeoutMs: 1_800_000 };
  out.push({ name: "toy-spec-ls-batched", command: node("toy-spec-run.ts", ...lsArgs), ...long });
  // The same on the published engine: NODE_OPTIONS carries the engine swap into reproduce's workers.
  out.push({
    name: "toy-spec-ls-batched-published",
    command: node("toy-spec-run.ts", ...lsArgs),
    env: publishedEngineEnv(),
    ...long,
  });
  // "Before batching": the same command with every run trained on its own (frozen H, C still shared per job).
  const singleArgs = lsArgs.length > 0 ? [...lsArgs, "--one-at-a-time"] : ["--", "--one-at-a-time"];
  out.push({ name: "toy-spec-ls-single", command: node("toy-spec-run.ts", ...singleArgs), ...long });
  out.push({
    name: "toy-spec-torch-batched-blas2",
    command: py("torch_toy_batched.py", "--spec", "default", ...pyArgs),
    env: { OPENBLAS_NUM_THREADS: "2" },
    ...long,
  });
  out.push({
    name: "toy-spec-torch-loop-blas2",
    command: py("torch_toy_loop.py", "--spec", "default", "--measure", "2", ...pyArgs),
    env: { OPENBLAS_NUM_THREADS: "2" },
    ...long,
  });
  return out;
}


/** Markdown lines of the toy section; `all(name)` gives a configuration's results, one per round. */
export function toyReport(all: (name: string) => Result[], quick: boolean): string[] {
  const num = (r: Result, k: string): number => (typeof r[k] === "number" ? (r[k]) : NaN);
  const med = (name: string, k: string): number => {
    const xs = all(name).map((r) => num(r, k)).filter(Number.isFinite);
    return xs.length > 0 ? median(xs) : NaN;
  };
  const per = (name: string, k: string): string => all(name).map((r) => fmt(num(r, k), 2)).join(", ");
  const s = quick ? QUICK : TOY;
  const L: string[] = [];
  const floor = all("toy-floor")[0] ?? {};
  const addGBs = med("toy-floor", "addGBs");
  const copyGBs = med("toy-floor", "copyGBs");
  const mmRates = (floor["matmulGFs"] ?? {}) as Record<string, number>;

  L.push(
    `### ${s.runs}-run sweeps (init-a/init-b × ${s.runs / 2} lrs), T = ${s.steps}, N = ${TOY.N}, r = ${TOY.r}`,
    "",
  );
  L.push(
    "Training time only (frozen setup excluded, listed apart). lorascope: 1 engine thread, warm (the first, compiling repeat is `cold`). Torch: torch 1 thread, OpenBLAS 1 or 2 threads; ★ = the faster of the two.",
    "",
  );
  for (const n of s.widths) {
    const base = med(`toy-n${n}-ls-batched`, "trainS");
    L.push(
      `**n = ${n}** (${chunking(s.runs, n).chunks} trainer chunk(s) of ≤ ${chunking(s.runs, n).size} adapters)`,
      "",
    );
    L.push(
      "| configuration | train s (median of rounds) | per round | ms / step (all runs) | × lorascope batched | setup s | note |",
      "|---|---|---|---|---|---|---|",
    );
    const row = (name: string, label: string, note = ""): void => {
      const t = med(name, "trainS");
      const ex = all(name).some((r) => r["extrapolated"] === true)
        ? `extrapolated from ${String(all(name)[0]?.["runsTimed"])} of ${s.runs} runs (same shapes)`
        : "";
      L.push(
        `| ${label} | ${fmt(t, 2)} | ${per(name, "trainS")} | ${fmt((1000 * t) / s.steps, 0)} | ${fmt(t / base, 2)} | ${fmt(med(name, "setupS"), 2)} | ${[note, ex].filter(Boolean).join("; ")} |`,
      );
    };
    row(`toy-n${n}-ls-batched`, "lorascope batched", `cold ${fmt(med(`toy-n${n}-ls-batched`, "coldTrainS"), 2)} s`);
    row(
      `toy-n${n}-ls-batched-published`,
      "lorascope batched, published jax-js (no patches/)",
      `cold ${fmt(med(`toy-n${n}-ls-batched-published`, "coldTrainS"), 2)} s`,
    );
    row(
      `toy-n${n}-ls-single`,
      "lorascope one at a time (K = 1 per trainer call)",
      `cold ${fmt(med(`toy-n${n}-ls-single`, "coldTrainS"), 2)} s`,
    );
    for (const [kind, label] of [
      ["loop", "torch loop (PEFT style, whole forward)"],
      ["loopcached", "torch loop, frozen features cached"],
      ["batched", "torch batched (lorascope's algorithm)"],
    ] as const) {
      const [t1, t2] = BLAS.map((b) => med(`toy-n${n}-torch-${kind}-blas${b}`, "trainS")) as [number, number];
      for (const b of BLAS) {
        const best = (b === 1 ? t1 <= t2 : t2 < t1) ? " ★" : "";
        row(`toy-n${n}-torch-${kind}-blas${b}`, `${label}, BLAS ${b}${best}`);
      }
    }
    L.push("");
  }

  L.push(
    quick
      ? "### Whole-spec stand-in (--quick: widths 64, 128, 1 seed, 3 steps; default lrs and inits), run once"
      : "### Whole default `reproduce` spec (7 widths × 3 seeds × 32 runs, T = 50), run once",
    "",
  );
  L.push("| configuration | wall s | note |", "|---|---|---|");
  const ls = all("toy-spec-ls-batched")[0];
  L.push(
    `| lorascope batched: \`node bin/lorascope.js reproduce --out <tmp>\`, whole process (${ls ? "2 worker processes" : "?"}) | ${fmt(med("toy-spec-ls-batched", "wallS"))} | of which the sweep ${fmt(med("toy-spec-ls-batched", "sweepS"))} s; the rest is start-up, analysis, coord check and report |`,
  );
  L.push(
    `| lorascope batched, published jax-js (no patches/), whole process | ${fmt(med("toy-spec-ls-batched-published", "wallS"))} | of which the sweep ${fmt(med("toy-spec-ls-batched-published", "sweepS"))} s; the patched engine is ${fmt(med("toy-spec-ls-batched-published", "wallS") / med("toy-spec-ls-batched", "wallS"), 2)}× faster |`,
  );
  L.push(
    `| lorascope one at a time (\`--one-at-a-time\`: every run trained alone), whole process | ${fmt(med("toy-spec-ls-single", "wallS"))} | of which the sweep ${fmt(med("toy-spec-ls-single", "sweepS"))} s; batched is ${fmt(med("toy-spec-ls-single", "wallS") / med("toy-spec-ls-batched", "wallS"), 2)}× faster |`,
  );
  L.push(
    `| torch batched, 1 process, torch 1 thread / BLAS 2 | ${fmt(med("toy-spec-torch-batched-blas2", "wallS"))} | measured; sweep only (no analysis), excludes interpreter start and \`import torch\`; ratio to lorascope batched ${fmt(med("toy-spec-torch-batched-blas2", "wallS") / med("toy-spec-ls-batched", "wallS"), 2)} (> 1: lorascope faster) |`,
  );
  const loopMeasured = med("toy-spec-torch-loop-blas2", "measuredS");
  L.push(
    `| torch loop (PEFT style), torch 1 thread / BLAS 2 | ${fmt(med("toy-spec-torch-loop-blas2", "wallS"))} | **extrapolated**: ${(all("toy-spec-torch-loop-blas2")[0]?.["runsTimedPerWidth"] as number | undefined) ?? "?"} runs + setup per width timed (${fmt(loopMeasured)} s), scaled to 32 runs × 3 seeds; lorascope batched is ${fmt(med("toy-spec-torch-loop-blas2", "wallS") / med("toy-spec-ls-batched", "wallS"), 1)}× faster (target ≥ 10×; on the published engine ${fmt(med("toy-spec-torch-loop-blas2", "wallS") / med("toy-spec-ls-batched-published", "wallS"), 1)}×) |`,
  );
  L.push("");

  L.push("### Floor of one batched step vs measured", "");
  L.push(
    `Bandwidth (bench/floor.ts, best of 5, bytes read + written): jitted jax-js elementwise add over 2^25 floats ${fmt(addGBs)} GB/s; JS \`Float32Array.set\` copy of 256 MiB ${fmt(copyGBs)} GB/s. The floor uses the add (what the step's kernels see).`,
    "",
  );
  L.push(
    "Per step, E = K·N·n elements of the [K,N,n] activations (summed over chunks). Passes over E in toy-step.ts as read: stage 1 re-reads C broadcast over K (u is fused into the readout sum, not stored); stage 2 re-reads C and writes gu; stage 3's two matmuls read gu (gB = Z_Aᵀ·gu, ∂Z_A = Bᵀ·guᵀ) = **5 passes** (7 if the transpose of gu is materialised). Minimum possible: 0 passes of E (u recomputed inside fused kernels; only C, N·n, read twice per chunk). FLOPs: r-wide contractions Z_A, u (twice: stages 1, 2), gB, ∂Z_A, gA and the per-step RMS(Z_B)'s Z_A = 12·r·E as implemented, 10·r·E at minimum, timed at the measured rate of the [K·r, n]·[n, N] product.",
    "",
  );
  L.push(
    "| n | K/chunk × chunks | E (M) | bytes floor, 5 passes (ms) | bytes floor, minimum (ms) | matmul GFLOP/s at [K·r,n]·[n,N] | FLOP floor 12rE (ms) | FLOP floor 10rE (ms) | measured lorascope batched (ms/step) | measured / max(floors as implemented) |",
    "|---|---|---|---|---|---|---|---|---|---|",
  );
  for (const n of s.widths) {
    const { size, chunks } = chunking(s.runs, n);
    const E = s.runs * TOY.N * n;
    const rate = mmRates[`${size * TOY.r}x${n}x${TOY.N}`] ?? NaN;
    const bytes5 = (5 * 4 * E) / (addGBs * 1e9) * 1000;
    const bytesMin = (2 * 4 * TOY.N * n * chunks) / (addGBs * 1e9) * 1000;
    const fl12 = (12 * TOY.r * E) / (rate * 1e9) * 1000;
    const fl10 = (10 * TOY.r * E) / (rate * 1e9) * 1000;
    const meas = (1000 * med(`toy-n${n}-ls-batched`, "trainS")) / s.steps;
    L.push(
      `| ${n} | ${size} × ${chunks} | ${fmt(E / 1e6)} | ${fmt(bytes5)} | ${fmt(bytesMin, 2)} | ${fmt(rate)} | ${fmt(fl12)} | ${fmt(fl10)} | ${fmt(meas)} | ${fmt(meas / Math.max(bytes5, fl12), 2)} |`,
    );
  }
  L.push(
    "",
    "Per-stage times of one batched step (bench/toy-stages.ts, one chunk, random tensors, round 1 only), ms and ns per [K,N,n] element:",
    "",
  );
  const stageRuns = s.widths.map((n) => all(`toy-stages-n${n}`)[0]);
  const keys = Object.keys((stageRuns.find((r) => r !== undefined)?.["ms"] ?? {}));
  L.push(
    `| stage | ${s.widths.map((n) => `n = ${n}, K = ${chunking(s.runs, n).size}: ms (ns/elem)`).join(" | ")} |`,
    `|---|${s.widths.map(() => "---").join("|")}|`,
  );
  for (const k of keys) {
    const cells = stageRuns.map((r) => {
      const v = ((r?.["ms"] ?? {}) as Record<string, number>)[k] ?? NaN;
      const e = ((r?.["nsPerElement"] ?? {}) as Record<string, number>)[k] ?? NaN;
      return `${fmt(v)} (${fmt(e, 2)})`;
    });
    L.push(`| ${k} | ${cells.join(" | ")} |`);
  }
  L.push(
    "",
    "Measured ms/step includes the metrics at logged steps (every 10th) and the per-step RMS(Z_B) maximum; the floors assume the bytes and the FLOPs do not overlap (the larger of the two is the floor).",
  );
  return L;
}
