// bench/run.ts's "queue" configuration (bench/queue.ts) and its section of bench/results.md.
import { median } from "./stats.ts";

type Result = Record<string, unknown>;

export function queueConfig(node: (script: string, ...args: string[]) => string[], quick: boolean) {
  return { name: "queue", command: node("queue.ts", ...(quick ? ["--quick"] : [])), once: true, timeoutMs: 1_200_000 };
}

export function queueReport(all: (name: string) => Result[]): string[] {
  const rs = all("queue").filter((r) => r["error"] === undefined);
  if (rs.length === 0) return ["Not measured in this run (--only, or the configuration failed)."];
  const m = (k: string): number => median(rs.map((r) => r[k] as number));
  const f = (v: number, d = 1) => (Number.isFinite(v) ? v.toFixed(d) : "–");
  const tiny = m("tinyJobs");
  const jobs = m("workJobs");
  const perJob = (s: number) => f((1000 * s) / tiny, 0);
  return [
    `Redis (Debian's redis-server, loopback) and \`lorascope worker\` processes on this machine; \`node --import tsx bench/queue.ts\`.`,
    "",
    `Per-job overhead: ${tiny} one-run jobs of one step at width 8, so that the job's own work is only its fixed set-up (the frozen student and its data). The local pool's time includes starting its child; the queue's worker was started and warm beforehand. The difference per job is what the queue adds: ${f((1000 * (m("queue1TinyS") - m("poolTinyS"))) / tiny, 0)} ms.`,
    "",
    "| how | total s | ms per job |",
    "|---|---|---|",
    `| local pool, 1 child | ${f(m("poolTinyS"))} | ${perJob(m("poolTinyS"))} |`,
    `| queue, 1 worker process | ${f(m("queue1TinyS"))} | ${perJob(m("queue1TinyS"))} |`,
    "",
    `Throughput: ${jobs} jobs (widths 64 and 128, ${m("workRunsPerJob")} runs × ${m("workSteps")} steps each).`,
    "",
    "| how | wall s | jobs / min | speed-up over 1 |",
    "|---|---|---|---|",
    `| queue, 1 worker process | ${f(m("queue1S"))} | ${f((60 * jobs) / m("queue1S"))} | 1.00 |`,
    `| queue, 2 worker processes | ${f(m("queue2S"))} | ${f((60 * jobs) / m("queue2S"))} | ${f(m("queue1S") / m("queue2S"), 2)} |`,
    `| local pool, 1 child | ${f(m("pool1S"))} | ${f((60 * jobs) / m("pool1S"))} | 1.00 |`,
    `| local pool, 2 children | ${f(m("pool2S"))} | ${f((60 * jobs) / m("pool2S"))} | ${f(m("pool1S") / m("pool2S"), 2)} |`,
  ];
}
