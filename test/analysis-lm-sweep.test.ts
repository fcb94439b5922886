// The LM sweep's analysis on synthetic rows whose answers are known by construction: η* by validation
// perplexity (never test), diverged runs as +∞, paired differences with their standard errors, counts,
// and the paper check scored on test perplexity.
import { test } from "node:test";
import assert from "node:assert/strict";
import { analyzeLmSweep, formatLmSweep, lmPaperVerdict, lmSweepJson, type LmRunRow } from "../src/analysis/lm-sweep.ts";

type Extra = Partial<LmRunRow>;
function row(init: string, lr: number, seed: number, val: number, testPpl: number, extra: Extra = {}): LmRunRow {
  return {
    init, lr, seed, diverged: false, collapsed: false,
    validation: { loss: Math.log(val), perplexity: val },
    test: { loss: Math.log(testPpl), perplexity: testPpl },
    tokensPerSecond: 1000 + seed, peakRssMiB: 300 + seed,
    ...extra,
  };
}

// init-a: best at lr 1e-2 (validation 5.0 + seed); its test perplexity there is 6 + seed.
// init-b: best at lr 1e-3 (validation 5.5 + seed); test 6.5 + 2·seed. At lr 1e-2 init-b diverges
// (seed 0) and collapses (seed 1). A cell with a better *test* but worse validation never wins.
const rows: LmRunRow[] = [];
for (const seed of [0, 1, 2]) {
  rows.push(row("init-a", 1e-3, seed, 6 + seed, 4)); // best test, worse validation
  rows.push(row("init-a", 1e-2, seed, 5 + seed, 6 + seed));
  rows.push(row("init-b", 1e-3, seed, 5.5 + seed, 6.5 + 2 * seed));
  rows.push(
    seed === 0
      ? row("init-b", 1e-2, seed, NaN, NaN, { diverged: true, validation: null, test: null })
      : row("init-b", 1e-2, seed, 40, 41, { collapsed: seed === 1 }),
  );
}

test("η* on validation perplexity; best perplexities, counts and paired differences at η*", () => {
  const s = analyzeLmSweep(rows);
  assert.deepEqual(s.optimalLr, { "init-a": 1e-2, "init-b": 1e-3 });
  assert.deepEqual([s.best["init-a"]?.validation.mean, s.best["init-a"]?.test.mean], [6, 7]);
  assert.equal(s.best["init-b"]?.test.mean, 8.5);
  assert.deepEqual([s.runs, s.diverged, s.collapsed], [12, 1, 1]);
  const cell = s.grid.find((c) => c.init === "init-b" && c.lr === 1e-2);
  assert.equal(cell?.validation.mean, Infinity, "a diverged run is +∞");
  assert.deepEqual([cell?.diverged, cell?.collapsed, cell?.runs], [1, 1, 3]);
  // a − b at η*, per seed: validation −0.5 each; test (6 + s) − (6.5 + 2s) = −0.5 − s → −0.5, −1.5, −2.5.
  const d = s.differences[0];
  assert.equal(d?.validation.a, "init-a");
  assert.ok(Math.abs((d?.validation.mean) + 0.5) < 1e-12);
  assert.equal(d?.validation.se, 0);
  assert.ok(Math.abs((d?.test.mean) + 1.5) < 1e-12);
  assert.ok(Math.abs((d?.test.se) - 1 / Math.sqrt(3)) < 1e-12, "std 1 over √3 seeds");
  assert.equal(s.speed.tokensPerSecond, 1001);
  assert.equal(s.speed.peakRssMiB, 302);
});

test("the paper check on test perplexity: init-a's larger η* and lower perplexity agree", () => {
  const s = analyzeLmSweep(rows);
  const p = s.paper;
  assert.ok(p !== null);
  assert.equal(p.largerLr, true);
  assert.ok(Math.abs(p.gain.mean - 1.5) < 1e-12, "ppl_B − ppl_A");
  assert.equal(p.better, true);
  const [lr, ppl] = lmPaperVerdict(p);
  assert.match(lr as string, /^init-a has the larger η\* — agrees: η\*_A = 0\.01 is larger than η\*_B = 0\.001/);
  assert.match(ppl as string, /^init-a reaches the better best perplexity — agrees: init-a's best test perplexity is lower, -1\.500 ± 1\.000 perplexity over 3 seed\(s\)/);
  // Swap the names: now init-a has the smaller η* and the higher perplexity.
  const swapped = analyzeLmSweep(rows.map((r) => ({ ...r, init: r.init === "init-a" ? "init-b" : "init-a" })));
  assert.equal(swapped.paper?.largerLr, false);
  assert.equal(swapped.paper?.better, false);
  assert.equal(swapped.paper?.tie, false);
  assert.equal(analyzeLmSweep(rows.filter((r) => r.init === "init-a")).paper, null);
});

test("the report and the JSON document carry the same numbers", () => {
  const s = analyzeLmSweep(rows);
  const text = formatLmSweep(s, "stories260K");
  assert.match(text, /\| init-a \| 0\.01 ★ \| 6\.000 ± 1\.000 \| 7\.000 ± 1\.000 \| 0\/3 \| 0\/3 \|/);
  assert.match(text, /\| init-b \| 0\.01 \| Infinity ± NaN \| Infinity ± NaN \| 1\/3 \| 1\/3 \|/);
  assert.match(text, /1 of 12 runs diverged, 1 collapsed/);
  const json = JSON.parse(lmSweepJson(s)) as { optimalLr: Record<string, number>; diverged: number };
  assert.deepEqual(json.optimalLr, s.optimalLr);
  assert.equal(json.diverged, 1);
});

test("δ shares at η*: each term's part of δ¹ + δ² + δ³ over training, mean over seeds; absent without dynamics", () => {
  const point = (step: number, d1: number, d2: number, d3: number) => ({
    step, rmsZA: 1, rmsZB: 1, delta1: d1, delta2: d2, delta3: d3,
  });
  // Seed 0: totals 6, 3, 1 → 0.6, 0.3, 0.1; seed 1: 2, 2, 0 (a NaN interval is skipped) → 0.5, 0.5, 0.
  const withDynamics = rows.map((r) =>
    r.init === "init-a" && r.lr === 1e-2 && r.seed < 2
      ? {
          ...r,
          dynamics: r.seed === 0
            ? [point(10, 2, 1, 0.5), point(20, 4, 2, 0.5)]
            : [point(10, 1, 1, 0), point(20, 1, 1, 0), point(30, NaN, 5, 5)],
        }
      : r,
  );
  const s = analyzeLmSweep(withDynamics);
  const d = s.deltaShares["init-a"];
  assert.ok(d !== undefined);
  const near = (x: number, y: number): boolean => Math.abs(x - y) < 1e-12;
  assert.ok(near(d.delta1, 0.55) && near(d.delta2, 0.4) && near(d.delta3, 0.05), JSON.stringify(d));
  assert.equal(s.deltaShares["init-b"], undefined, "no dynamics recorded at init-b's η*");
  assert.match(formatLmSweep(s, "t"), /init-a at η\*: the change of Z_B is δ¹ 55\.0 %, δ² 40\.0 %, δ³ 5\.0 %/);
});
