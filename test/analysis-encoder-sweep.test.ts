// η* per init on validation accuracy, test accuracy at η* over seeds, the probe once per seed: on
// synthetic rows where validation and test disagree, so choosing on test would give another answer.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  analyzeEncoderSweep,
  formatEncoderSweep,
  meanStd,
  encoderSweepJson,
  type EncoderRunRow,
} from "../src/analysis/encoder-sweep.ts";

function row(init: string, lr: number, seed: number, val: number, tst: number, diverged = false): EncoderRunRow {
  const probe = { validation: { accuracy: 0.7 }, test: { accuracy: 0.7 + 0.02 * seed } };
  return {
    init,
    lr,
    seed,
    diverged,
    validation: { accuracy: val },
    test: { accuracy: tst },
    probe,
    examplesPerSecond: 1,
  };
}

const rows: EncoderRunRow[] = [
  // init-a: best validation at 1e-3 (mean 0.85), best test at 3e-3: η* must be 1e-3.
  row("init-a", 1e-3, 0, 0.84, 0.80),
  row("init-a", 1e-3, 1, 0.86, 0.84),
  row("init-a", 3e-3, 0, 0.80, 0.90),
  row("init-a", 3e-3, 1, 0.82, 0.90),
  // init-b: 3e-3 wins on validation; 1e-2 diverged once with a high validation accuracy in the other seed.
  row("init-b", 1e-3, 0, 0.70, 0.71),
  row("init-b", 1e-3, 1, 0.72, 0.73),
  row("init-b", 3e-3, 0, 0.88, 0.86),
  row("init-b", 3e-3, 1, 0.88, 0.88),
  row("init-b", 1e-2, 0, 0.95, 0.95, true),
  row("init-b", 1e-2, 1, 0.95, 0.95),
];

test("η* is chosen on validation accuracy; a diverged run counts as 0", () => {
  const s = analyzeEncoderSweep(rows);
  assert.deepEqual(s.optimalLr, { "init-a": 1e-3, "init-b": 3e-3 });
  assert.ok(Math.abs((s.bestAccuracy["init-a"]?.mean as number) - 0.82) < 1e-12);
  assert.ok(Math.abs((s.bestAccuracy["init-a"]?.std as number) - Math.SQRT2 * 0.02) < 1e-12);
  assert.ok(Math.abs((s.bestAccuracy["init-b"]?.mean as number) - 0.87) < 1e-12);
  const diverged = s.grid.find((g) => g.init === "init-b" && g.lr === 1e-2);
  assert.equal(diverged?.diverged, 1);
});

test("the probe is one value per seed, and the JSON line has the documented keys", () => {
  const s = analyzeEncoderSweep(rows);
  assert.equal(s.probe.n, 2);
  assert.ok(Math.abs(s.probe.mean - 0.71) < 1e-12);
  const j = JSON.parse(encoderSweepJson(s)) as Record<string, Record<string, unknown>>;
  assert.deepEqual(Object.keys(j), ["optimalLr", "bestAccuracy", "probe", "gainOverProbe", "paper", "speed"]);
  assert.deepEqual(Object.keys(j["bestAccuracy"]?.["init-a"] as object), ["mean", "std"]);
  // init-a's η* is its grid's smallest rate, init-b's (3e-3 of 1e-3…1e-2) lies inside its grid.
  assert.match(
    formatEncoderSweep(s, "t"),
    /init-a: η\* = 0\.001 \(on validation; the grid's smallest rate: the optimum may lie below it\)/,
  );
  assert.match(formatEncoderSweep(s, "t"), /init-b: η\* = 0\.003 \(on validation\), test/);
});

test("the gain over the probe is paired by seed", () => {
  const s = analyzeEncoderSweep(rows);
  // init-a at η* = 1e-3: test 0.80 and 0.84 against probes 0.70 and 0.72 → gains 0.10 and 0.12.
  assert.ok(Math.abs((s.gainOverProbe["init-a"]?.mean as number) - 0.11) < 1e-12);
  assert.ok(Math.abs((s.gainOverProbe["init-a"]?.std as number) - Math.SQRT2 * 0.01) < 1e-12);
  // Standard error 1.41/√2 = 1.00: 11 points is far more than two of them.
  assert.match(
    formatEncoderSweep(s, "t"),
    /init-a at η\* minus the probe on the test split, paired by seed: \+11\.00 ± 1\.41 points \(standard error 1\.00; 2 of 2 seeds above the probe\) — a clear gain/,
  );
  assert.equal(s.gainOverProbe["init-a"]?.clear, true);
  // One seed alone never makes a clear gain.
  assert.equal(analyzeEncoderSweep(rows.filter((r) => r.seed === 0)).gainOverProbe["init-a"]?.clear, false);
  // Gains +0.10 and −0.02: mean 0.04, standard error 0.06 — positive but not clear, 1 of 2 above.
  const mixed = analyzeEncoderSweep([row("init-a", 1e-3, 0, 0.8, 0.80), row("init-a", 1e-3, 1, 0.8, 0.70)]);
  assert.equal(mixed.gainOverProbe["init-a"]?.clear, false);
  assert.equal(mixed.gainOverProbe["init-a"]?.above, 1);
  assert.match(
    formatEncoderSweep(mixed, "t"),
    /1 of 2 seeds above the probe\) — not a clear gain: within two standard errors of 0/,
  );
  // Held out = validation and test pooled (equal weights without split sizes): init-a at 1e-3,
  // seed 0: (0.84 + 0.80)/2 − (0.70 + 0.70)/2 = 0.12; seed 1: (0.86 + 0.84)/2 − (0.70 + 0.72)/2 = 0.14.
  const cell = s.grid.find((g) => g.init === "init-a" && g.lr === 1e-3);
  assert.ok(Math.abs((cell?.heldOutGain.mean as number) - 0.13) < 1e-12);
  assert.match(
    formatEncoderSweep(s, "t"),
    /\| init-a \| 0\.001 \(η\*\) \| 85\.00 ± 1\.41% \| 82\.00 ± 2\.83% \| \+13\.00 ± 1\.41 \| 0\/2 \|/,
  );
});

test("collapsed runs are counted where rows record it, and not guessed where they do not", () => {
  const s = analyzeEncoderSweep([
    { ...row("init-a", 2e-2, 0, 0.5, 0.5), collapsed: true },
    { ...row("init-a", 2e-2, 1, 0.8, 0.8), collapsed: false },
    row("init-a", 1e-3, 0, 0.8, 0.8),
  ]);
  assert.equal(s.grid.find((g) => g.lr === 2e-2)?.collapsed, 1);
  assert.equal(s.grid.find((g) => g.lr === 1e-3)?.collapsed, null);
  assert.match(formatEncoderSweep(s, "t"), /\| init-a \| 0\.02 \| .* \| 0\/2 \(1 collapsed\) \|/);
  assert.match(formatEncoderSweep(s, "t"), /\| init-a \| 0\.001 \(η\*\) \| .* \| 0\/1 \|/);
});

test("the paper check: η*_A vs η*_B and the paired accuracy difference, stated either way", () => {
  const s = analyzeEncoderSweep(rows);
  const p = s.paper;
  assert.ok(p !== null);
  // η*_A = 1e-3 < η*_B = 3e-3; init-a 0.80, 0.84 vs init-b 0.86, 0.88 → −0.06, −0.04.
  assert.equal(p.largerLr, false);
  assert.ok(Math.abs(p.gain.mean + 0.05) < 1e-12);
  assert.equal(p.tie, false);
  assert.equal(p.better, false);
  assert.match(
    formatEncoderSweep(s, "t"),
    /init-a has the larger η\* — does not agree: η\*_A = 0\.001 is smaller than η\*_B = 0\.003/,
  );
  assert.match(
    formatEncoderSweep(s, "t"),
    /init-a reaches the better best accuracy — does not agree: .*−5\.00 ± 1\.41 points over 2 seed/,
  );
  // Swap the inits' names: now both predictions hold.
  const swapped = analyzeEncoderSweep(rows.map((r) => ({ ...r, init: r.init === "init-a" ? "init-b" : "init-a" })));
  assert.equal(swapped.paper?.largerLr, true);
  assert.equal(swapped.paper?.better, true);
  // One seed only: no difference can be shown.
  const one = analyzeEncoderSweep(rows.filter((r) => r.seed === 0));
  assert.equal(one.paper?.tie, true);
  assert.equal(analyzeEncoderSweep(rows.filter((r) => r.init === "init-a")).paper, null);
});

test("a tie in validation accuracy goes to the lower validation loss, then the smaller lr", () => {
  const tie = (lr: number, loss?: number): EncoderRunRow => ({
    ...row("init-a", lr, 0, 0.9, 0.9),
    validation: loss === undefined ? { accuracy: 0.9 } : { accuracy: 0.9, loss },
  });
  assert.equal(analyzeEncoderSweep([tie(1e-3, 0.30), tie(3e-3, 0.25)]).optimalLr["init-a"], 3e-3);
  assert.equal(analyzeEncoderSweep([tie(1e-3, 0.25), tie(3e-3, 0.30)]).optimalLr["init-a"], 1e-3);
  assert.equal(analyzeEncoderSweep([tie(1e-3), tie(3e-3)]).optimalLr["init-a"], 1e-3);
});

test("dynamics at the end: the last measurement per run, averaged over the seeds that have one", () => {
  const point = (step: number, z: number) => ({ step, rmsZA: z, rmsZB: 2 * z, delta1: 0, delta2: z / 10, delta3: 0 });
  const withDyn = rows.map((r) =>
    r.init === "init-a" && r.lr === 1e-3 ? { ...r, dynamics: [point(0, 9), point(10, r.seed + 1)] } : r,
  );
  const s = analyzeEncoderSweep(withDyn);
  const cell = s.grid.find((g) => g.init === "init-a" && g.lr === 1e-3);
  const d = cell?.dynamicsAtEnd;
  assert.ok(d !== null && d !== undefined);
  assert.deepEqual(
    { ...d, delta2: +d.delta2.toFixed(12) },
    { rmsZA: 1.5, rmsZB: 3, delta1: 0, delta2: 0.15, delta3: 0, n: 2 },
  );
  assert.equal(s.grid.find((g) => g.init === "init-b")?.dynamicsAtEnd, null);
  assert.equal(s.paper?.bShare, null); // init-b at its η* has no dynamics
  // Σδ²/Σδ¹ per run, mean over seeds: init-a (η* 1e-3) 0.1 and 0.1; init-b (η* 3e-3) 0.5 and 0.25.
  const first = { ...point(0, 1), delta1: NaN, delta2: NaN, delta3: NaN }; // no interval yet
  const both = rows.map((r) =>
    r.init === "init-a" && r.lr === 1e-3
      ? { ...r, dynamics: [first, { ...point(10, 1), delta1: 1, delta2: 0.1 }] }
      : r.init === "init-b" && r.lr === 3e-3
        ? { ...r, dynamics: [first, { ...point(10, 1), delta1: 2, delta2: r.seed === 0 ? 1 : 0.5 }] }
        : r,
  );
  const share = analyzeEncoderSweep(both).paper?.bShare;
  assert.ok(share !== null && share !== undefined);
  assert.ok(Math.abs(share.a - 0.1) < 1e-12 && Math.abs(share.b - 0.375) < 1e-12, JSON.stringify(share));
  assert.match(
    formatEncoderSweep(analyzeEncoderSweep(both), "t"),
    /init-b leaves B undertrained — does not agree: .* is 0\.38 under init-b at η\*_B against 0\.10 under init-a/,
  );
  assert.match(
    formatEncoderSweep(s, "t"),
    /\| init-a \| 0\.001 \| 1\.50e\+0 \| 3\.00e\+0 \| 0\.00e\+0 \| 1\.50e-1 \| 0\.00e\+0 \|/,
  );
});

test("meanStd: sample std, 0 for one value", () => {
  assert.deepEqual(meanStd([0.5]), { mean: 0.5, std: 0, n: 1 });
  assert.ok(Math.abs(meanStd([1, 2, 3, 4]).std - Math.sqrt(5 / 3)) < 1e-12);
});
