// The benchmark suite: runs every configuration as its own child process, interleaved in rounds
// with the order rotated each round (so drift in a shared machine's load hits every configuration
// alike), prints the ratios, and writes bench/results.md. Each child reports the median of its own
// repeats; the tables give the median over rounds.
//
//   node --import tsx bench/run.ts [--rounds 3] [--quick] [--only toy | --skip lm] [--lm-reps 3]
//
// --only PREFIX runs the configurations whose name starts with PREFIX (the other tables show –) and
// writes bench/results-PREFIX.md instead of bench/results.md.
// --skip PREFIX leaves those configurations out of a full run (their table says so) and still writes
// bench/results.md: e.g. --skip lm, whose own file (bench/results-lm.md) holds the language models.
// --quick (1 round, few repeats) only checks that every script runs; its numbers mean little.
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import { fileURLToPath } from "node:url";
import { median, flag, fmt, nodeBench, usesPublishedEngine } from "./stats.ts";
import { engineReport } from "./engine-report.ts";
import { unpackPristine } from "../test/support/pristine-engine.ts";
import { SIZES } from "./matmul.ts";
import { toyConfigs, toyReport } from "./toy.ts";
import { useConfigs, useReport, useSetup } from "./use.ts";
import { lmConfigs, lmReport, lmSetup } from "./lm-suite.ts";
import { queueConfig, queueReport } from "./queue-report.ts";

const root = fileURLToPath(new URL("..", import.meta.url));
const quick = process.argv.includes("--quick");
const rounds = quick ? 1 : flag("rounds", 3);
const reps = quick ? 2 : flag("reps", 8);
// Debian's python3 with torch 1.13 (the first python3 on PATH has none); LORASCOPE_BENCH_PYTHON names
// another interpreter with torch, e.g. a venv's.
const PY = process.env["LORASCOPE_BENCH_PYTHON"] ?? "/usr/bin/python3";

interface Config { name: string; command: string[]; env?: Record<string, string>; once?: boolean; timeoutMs?: number }
type Result = Record<string, unknown> & { msPerStep?: number; gflops?: Record<string, number> };

const node = (script: string, ...args: string[]): string[] => nodeBench(script, args);
// The same child on the published, unpatched engine (patches/ applied to neither), side by side.
const published = (script: string, ...args: string[]): string[] => nodeBench(script, args, true);
const onlyAt = process.argv.indexOf("--only");
const only = onlyAt < 0 ? "" : String(process.argv[onlyAt + 1]);
const allConfigs: Config[] = [
  { name: "peak", command: node("peak.ts") },
  { name: "engine-patched", command: node("engine.ts", "--reps", String(reps)), env: { LORASCOPE_THREADS: "1" } },
  { name: "engine-published", command: published("engine.ts", "--reps", String(reps)), env: { LORASCOPE_THREADS: "1" } },
  { name: "matmul-1t", command: node("matmul.ts", "--reps", String(reps)), env: { LORASCOPE_THREADS: "1" } },
  { name: "matmul-2t", command: node("matmul.ts", "--reps", String(reps)), env: { LORASCOPE_THREADS: "2" } },
  { name: "block-jax-1t", command: node("block.ts", "--reps", String(reps)), env: { LORASCOPE_THREADS: "1" } },
  { name: "block-jax-2t", command: node("block.ts", "--reps", String(reps)), env: { LORASCOPE_THREADS: "2" } },
  { name: "block-jax-1t-published", command: published("block.ts", "--reps", String(reps)), env: { LORASCOPE_THREADS: "1" } },
  { name: "block-jax-2t-published", command: published("block.ts", "--reps", String(reps)), env: { LORASCOPE_THREADS: "2" } },
  // docs/engine.md: torch's best setting here is 1 torch thread with 2 OpenBLAS threads.
  {
    name: "block-torch-1t-blas2",
    command: [PY, "bench/torch_block.py", "--threads", "1", "--reps", String(reps)],
    env: { OPENBLAS_NUM_THREADS: "2" },
  },
  {
    name: "block-torch-1t-blas1",
    command: [PY, "bench/torch_block.py", "--threads", "1", "--reps", String(reps)],
    env: { OPENBLAS_NUM_THREADS: "1" },
  },
  ...toyConfigs({ quick, python: PY }),
  ...useConfigs({ python: PY, reps }),
  ...lmConfigs({ reps: quick ? 1 : flag("lm-reps", 3) }),
  queueConfig(node, quick),
];
// The engine and matmul tables quote the peak: it runs with them under --only.
const withPeak = ["engine", "matmul"].some((p) => only.startsWith(p) && only !== "");
const skipAt = process.argv.indexOf("--skip");
const skip = skipAt < 0 ? undefined : String(process.argv[skipAt + 1]);
const configs = allConfigs.filter(
  (c) => (c.name.startsWith(only) || (withPeak && c.name === "peak")) && (skip === undefined || !c.name.startsWith(skip)),
);
const notRun = `Not measured in this run (${skip === undefined ? "--only" : `--skip ${skip}`}).`;
// The published engine for the `published` children: unpacked from npm's cache for this run.
const onPublished = configs.filter((c) => usesPublishedEngine(c.command, c.env));
const pristine = onPublished.length > 0 ? unpackPristine() : undefined;
if (pristine) for (const c of onPublished) c.env = { ...c.env, LORASCOPE_PUBLISHED_ENGINE: pristine.root };
if (configs.some((c) => c.name.startsWith("use-torch"))) useSetup(root); // torch_use.py reads its export
if (configs.some((c) => c.name.startsWith("lm-") && c.name.includes("torch"))) lmSetup(root); // torch_lm.py loads stories260K's folder

/** One child's JSON line; a child that fails (e.g. out of memory) is recorded as `{error}`, and the suite goes on. */
function runChild(c: Config): Result {
  let out: string;
  try {
    out = execFileSync(c.command[0] as string, c.command.slice(1), {
      cwd: root, env: { ...process.env, ...c.env }, encoding: "utf8", timeout: c.timeoutMs ?? 600_000,
    });
  } catch (err) {
    const e = err as { stderr?: string; message?: string };
    const why = (e.stderr ?? e.message ?? String(err)).split("\n").find((l) => /Error/.test(l)) ?? "failed";
    console.error(`${c.name} failed: ${why.trim()}`);
    return { error: why.trim() };
  }
  const line = out.trim().split("\n").at(-1) ?? "";
  return JSON.parse(line) as Result;
}

const load = (): string => os.loadavg().map((v) => v.toFixed(2)).join(" ");
const loadBefore = load();
const results = new Map<string, Result[]>(configs.map((c) => [c.name, []]));
for (let round = 0; round < rounds; round++) {
  const order = configs.map((_, i) => configs[(i + round) % configs.length] as Config);
  for (const c of order) {
    if (c.once === true && round > 0) continue;
    const t0 = performance.now();
    const r = runChild(c);
    results.get(c.name)?.push(r);
    console.error(`round ${round + 1}/${rounds} ${c.name}: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }
}
const loadAfter = load();
pristine?.cleanup();

const all = (name: string): Result[] => results.get(name) ?? [];
// NaN: not run (--only)
const med = (name: string, pick: (r: Result) => number): number =>
  all(name).length > 0 ? median(all(name).map(pick)) : NaN;
const gf = (name: string, n: number): number => med(name, (r) => r.gflops?.[n] ?? NaN);
const ms = (name: string): number => med(name, (r) => r.msPerStep ?? NaN);
const spread = (name: string, pick: (r: Result) => number): string =>
  all(name).map(pick).map((v) => fmt(v)).join(", ");

const peak1 = med("peak", (r) => r["gflops1"] as number);
const peak2 = med("peak", (r) => r["gflops2"] as number);
const lines: string[] = [];
lines.push("## Matmul (jax-js wasm, jit, completion forced with `await read`)", "");
lines.push(
  `WASM-SIMD128 peak (bench/peak.ts: 12 independent f32x4 mul+add chains, no FMA): ${fmt(peak1)} GFLOP/s on 1 thread, ${fmt(peak2)} on 2 workers at once.`,
  "",
);
lines.push(
  "| n | 1 thread GFLOP/s | % of 1-thread peak | 2 threads GFLOP/s | % of 2-thread peak | 2t / 1t |",
  "|---|---|---|---|---|---|",
);
for (const n of SIZES) {
  const [g1, g2] = [gf("matmul-1t", n), gf("matmul-2t", n)];
  lines.push(
    `| ${n} | ${fmt(g1)} | ${fmt((100 * g1) / peak1, 0)} % | ${fmt(g2)} | ${fmt((100 * g2) / peak2, 0)} % | ${fmt(g2 / g1, 2)} |`,
  );
}
const torchBest = ms("block-torch-1t-blas2"), torch11 = ms("block-torch-1t-blas1");
const jax1 = ms("block-jax-1t"), jax2 = ms("block-jax-2t");
lines.push(
  "",
  "## Engine kernels: patched (patches/) beside the published @jax-js/jax",
  "",
  ...(configs.some((c) => c.name.startsWith("engine")) ? engineReport(all, peak1) : [notRun]),
);
lines.push(
  "",
  "## LoRA training step of a pre-LN transformer block (d 256, 4 heads, T 128, batch 8, MLP 1024, r 8 on q,k,v,o, AdamW)",
  "",
);
lines.push(
  "| configuration | ms / step (median of rounds) | per-round medians | ratio to torch 1t/BLAS 2 | ratio to torch 1t/BLAS 1 |",
  "|---|---|---|---|---|",
);
for (const [name, label] of [
  ["block-jax-1t", "lorascope / jax-js, 1 thread"],
  ["block-jax-2t", "lorascope / jax-js, 2 threads"],
  ["block-jax-1t-published", "lorascope / published jax-js (no patches), 1 thread"],
  ["block-jax-2t-published", "lorascope / published jax-js (no patches), 2 threads"],
  ["block-torch-1t-blas2", "PyTorch, torch 1 thread, OpenBLAS 2"],
  ["block-torch-1t-blas1", "PyTorch, torch 1 thread, OpenBLAS 1"],
] as const) {
  lines.push(
    `| ${label} | ${fmt(ms(name))} | ${spread(name, (r) => r.msPerStep ?? NaN)} | ${fmt(ms(name) / torchBest, 2)} | ${fmt(ms(name) / torch11, 2)} |`,
  );
}
const loss = (name: string): number => med(name, (r) => r["loss1"] as number);
lines.push(
  "",
  `Cross-check, loss at step 1: jax-js ${loss("block-jax-1t").toPrecision(8)}, jax-js 2 threads ${loss("block-jax-2t").toPrecision(8)}, torch ${loss("block-torch-1t-blas1").toPrecision(8)}.`,
);
lines.push(`2 threads vs 1 on the block step: ${fmt(jax1 / jax2, 2)}× (speed-up).`);
lines.push(
  "",
  "## Toy sweeps",
  "",
  ...(configs.some((c) => c.name.startsWith("toy")) ? toyReport(all, quick) : [notRun]),
);
lines.push(
  "",
  "## USE-lite sentence encoder at [32, 32]",
  "",
  ...(configs.some((c) => c.name.startsWith("use")) ? useReport(all) : [notRun]),
);

lines.push(
  "",
  "## Language models: LoRA training and KV-cached generation, lorascope beside PyTorch (torch 2.13, transformers, PEFT)",
  "",
  ...(configs.some((c) => c.name.startsWith("lm")) ? lmReport(all) : [notRun]),
);

lines.push(
  "",
  "## Sweeps through the job queue (BullMQ on Redis) against the local pool",
  "",
  ...(configs.some((c) => c.name.startsWith("queue")) ? queueReport(all) : [notRun]),
);

const jaxVersion = (
  JSON.parse(readFileSync(`${root}/node_modules/@jax-js/jax/package.json`, "utf8")) as { version: string }
).version;
const sh = (cmd: string): string => {
  try {
    return execFileSync("sh", ["-c", cmd], { encoding: "utf8" }).trim();
  } catch {
    return "unknown";
  }
};
const header = [
  "# lorascope benchmark results",
  "",
  `Written by \`bench/run.ts\` on ${new Date().toISOString()}${quick ? " — **--quick run: checks the scripts only, the numbers mean little**" : ""}.`,
  "",
  `- machine: ${sh("lscpu | sed -n 's/^Model name: *//p'")}, ${os.cpus().length} CPUs (${sh("nproc")} online), ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB`,
  `- load average (1/5/15 min) before: ${loadBefore}; after: ${loadAfter}`,
  `- versions: node ${process.version}, @jax-js/jax ${jaxVersion}, torch ${([...results.values()].flat().find((r) => typeof r["torch"] === "string")?.["torch"] as string | undefined) ?? "?"}, OpenBLAS (libopenblas0-pthread) ${sh("dpkg-query -W -f '${Version}' libopenblas0-pthread")}`,
  `- ${rounds} round(s), configuration order rotated each round, ${reps} timed repeats per child after warm-up (toy children: see their section; whole-spec runs in round 1 only)${only === "" ? "" : `; only configurations starting with "${only}"`}${skip === undefined ? "" : `; configurations starting with "${skip}" skipped`}`,
  "",
];
const text = [...header, ...lines, ""].join("\n");
// A partial run (--only) must not overwrite the full results: it gets its own file.
writeFileSync(`${root}/bench/${only === "" ? "results.md" : `results-${only}.md`}`, text);
console.log(text);
