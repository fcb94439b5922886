// The "Engine kernels" section of bench/results.md: bench/engine.ts on the patched and on the
// published engine (medians over rounds), the change, and each target of the engine patches.
import { fmt, median } from "./stats.ts";

type Result = Record<string, unknown>;
type Group = "gflops" | "nsPerElement" | "ms";

/** Median over rounds of one measurement of one configuration; NaN when not measured. */
function med(all: (name: string) => Result[], name: string, group: Group, key: string): number {
  const xs = all(name)
    .map((r) => (r[group] as Record<string, number> | undefined)?.[key])
    .filter((v): v is number => typeof v === "number" && Number.isFinite(v));
  return xs.length > 0 ? median(xs) : NaN;
}

export function engineReport(all: (name: string) => Result[], peak: number): string[] {
  const first = all("engine-patched")[0] ?? all("engine-published")[0];
  if (first === undefined) return ["No engine results (the children failed)."];
  const lines = [
    `bench/engine.ts, 1 thread, each kernel alone (jit; wall time to \`blockUntilReady\`, median of repeats; the table: median of rounds). Peak: ${fmt(peak)} GFLOP/s (bench/peak.ts).`,
    "",
    "| kernel | unit | published | patched | patched / published | patched, % of peak |",
    "|---|---|---|---|---|---|",
  ];
  const units: Record<Group, string> = { gflops: "GFLOP/s", nsPerElement: "ns / element", ms: "ms" };
  for (const group of ["gflops", "nsPerElement", "ms"] as const) {
    for (const key of Object.keys((first[group] as Record<string, number> | undefined) ?? {})) {
      const [p, q] = [med(all, "engine-published", group, key), med(all, "engine-patched", group, key)];
      // Speed-up as a factor > 1 when the patched engine is faster, whatever the unit.
      const gain = group === "gflops" ? q / p : p / q;
      const change = gain >= 1 ? `${fmt(gain, 2)}× faster` : `${fmt(1 / gain, 2)}× slower`;
      const ofPeak = group === "gflops" ? `${fmt((100 * q) / peak, 0)} %` : "";
      lines.push(`| ${key} | ${units[group]} | ${fmt(p, 2)} | ${fmt(q, 2)} | ${change} | ${ofPeak} |`);
    }
  }
  const g = (name: string, key: string): number => med(all, name, "gflops", key);
  const batched = g("engine-patched", "batched [32,128,64]·[32,64,128]");
  const flat = g("engine-patched", "2-D, same FLOPs [4096,64]·[64,128]");
  const matmuls = [512, 1024, 2048].map((n) => g("engine-patched", `matmul ${n}`));
  const preact = med(all, "engine-patched", "nsPerElement", "toy pre-activation r = 4 [24,1000,1024]");
  const sumP = med(all, "engine-published", "nsPerElement", "sum of 2^25 to a scalar");
  const sumQ = med(all, "engine-patched", "nsPerElement", "sum of 2^25 to a scalar");
  lines.push(
    "",
    "Targets (patched engine):",
    `- matmul ≥ 80 % of peak at 512…2048: ${matmuls.map((v) => `${fmt((100 * v) / peak, 0)} %`).join(", ")}`,
    `- batched dot ≥ 0.9× the 2-D matmul of the same FLOPs: ${fmt(batched / flat, 2)}×`,
    `- toy pre-activation (r = 4) ≤ 0.5 ns/element: ${fmt(preact, 2)} ns`,
    `- sum to a scalar ≥ 3× faster: ${fmt(sumP / sumQ, 2)}×`,
  );
  return lines;
}
