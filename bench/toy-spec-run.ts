// The whole `lorascope reproduce` as a user runs it, timed as one process from the outside:
// `node bin/lorascope.js reproduce --out <tmp> [args…]` (default spec unless args narrow it), which
// includes start-up, the sweep on all cores (worker processes), the analysis and the report. Also
// parses the sweep's own time from its "N runs (…) in X s" line. The output folder is deleted.
//
//   node --import tsx bench/toy-spec-run.ts [-- --one-at-a-time --widths 64 …]
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { report } from "./stats.ts";

const root = fileURLToPath(new URL("..", import.meta.url));
const dash = process.argv.indexOf("--");
const extra = dash < 0 ? [] : process.argv.slice(dash + 1);
const out = fs.mkdtempSync(path.join(os.tmpdir(), "lorascope-bench-"));
try {
  const t0 = performance.now();
  const p = spawnSync(process.execPath, [path.join(root, "bin/lorascope.js"), "reproduce", "--out", out, ...extra], {
    cwd: root, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], maxBuffer: 64 * 2 ** 20,
  });
  const wallS = (performance.now() - t0) / 1000;
  if (p.status !== 0) throw new Error(`reproduce exited with ${String(p.status)}: ${p.stderr.slice(-2000)}`);
  // The progress bar (stderr) ends with "N runs (M already done) in X s → …".
  const m = /(\d+) runs \(\d+ already done\) in ([\d.]+) s/.exec(p.stderr);
  report({
    bench: "toy-spec", stack: extra.includes("--one-at-a-time") ? "lorascope-one-at-a-time" : "lorascope-batched",
    wallS, sweepS: m ? Number(m[2]) : NaN, runs: m ? Number(m[1]) : NaN, args: extra, extrapolated: false,
  });
} finally {
  fs.rmSync(out, { recursive: true, force: true });
}
