import assert from "node:assert/strict";
import { test } from "node:test";
import { COORD_SETTINGS, coordRun, runCoordCheck } from "../src/experiments/coordcheck.ts";
import { formatCoordCheck } from "../src/cli/commands/coord-check.ts";

const byName = (name: string) => COORD_SETTINGS.find((s) => s.name === name)!;

test("one SignSGD step moves only the random factor's partner (sign(0) = 0)", () => {
  // init-b: A = 0 ⇒ Z_A = 0 ⇒ grad B = 0, so B is unchanged after step 1 while A moves.
  const b = coordRun(byName("init-b, η = n^-1/2"), 128, 0, 1, 4, 8);
  assert.equal(b.dB, 0);
  assert.ok(b.zA > 0);
  // init-a: B = 0 ⇒ grad A = 0; B moves by exactly η per entry (every gradient entry is non-zero).
  const a = coordRun(byName("init-a, η = n^-1/2"), 128, 0, 1, 4, 8);
  assert.ok(Math.abs(a.dB - 128 ** -0.5) < 1e-12, `RMS(B−B₀) ${a.dB}`);
});

test("coord-check at small widths: slopes have the theory's signs and ordering", () => {
  const t0 = Date.now();
  const r = runCoordCheck({ widths: [64, 128, 256, 512, 1024], seeds: 2 });
  const row = (name: string) => r.rows.find((x) => x.name === name)!;
  const a2 = row("init-a, η = n^-1/2");
  const a1 = row("init-a, η = n^-1");
  const b2 = row("init-b, η = n^-1/2");
  const b1 = row("init-b, η = n^-1");
  const plusA = row("LoRA+ init-a, η_A = n^-1, η_B = 0.05");
  // Thresholds are loose because 64…1024 is pre-asymptotic (the default widths meet ±0.1 on most entries).
  assert.ok(a2.slope.zA > 0.25, `init-a η=n^-1/2 Z_A slope ${a2.slope.zA}`); // internal instability (+1/2)
  assert.ok(Math.abs(a2.slope.zB) < 0.2, `init-a η=n^-1/2 Z_B slope ${a2.slope.zB}`); // stable output (0)
  assert.ok(a1.slope.zB < -0.8, `init-a η=n^-1 Z_B slope ${a1.slope.zB}`); // lazy (−1)
  assert.ok(b2.slope.zB > 0.25, `init-b η=n^-1/2 Z_B slope ${b2.slope.zB}`); // output blow-up (+1/2)
  assert.ok(b1.slope.dB < -0.8, `init-b η=n^-1 B−B₀ slope ${b1.slope.dB}`); // B undertrained (−1)
  assert.ok(
    Math.abs(plusA.slope.zA) < 0.15 && Math.abs(plusA.slope.dB) < 0.15,
    "LoRA+ init-a should be Θ(1) everywhere",
  );
  // Orderings across settings at the same init: the larger lr gives the larger Z_A growth.
  assert.ok(a2.slope.zA > a1.slope.zA + 0.2);
  assert.ok(b2.slope.dB > b1.slope.dB + 0.3);
  assert.ok(Date.now() - t0 < 15000, "coord-check at small widths should take a few seconds");
  const text = formatCoordCheck(r);
  assert.match(text, /\(\+0\.50\)/);
  assert.equal(text.split("\n").length, r.rows.length + 5);
});

test("coord-check is deterministic for a seed", () => {
  const s = [byName("init-a, η = n^-1/2")];
  assert.deepEqual(
    runCoordCheck({ widths: [64, 256], seeds: 1, settings: s }),
    runCoordCheck({ widths: [64, 256], seeds: 1, settings: s }),
  );
});
