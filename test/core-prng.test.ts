import { test } from "node:test";
import assert from "node:assert/strict";
import { prng } from "../src/core/index.ts";

test("same key, same numbers; different names, different numbers", () => {
  const root = prng.key(7);
  const a1 = prng.normal(prng.fold(root, "base"), [1000]);
  const a2 = prng.normal(prng.fold(prng.key(7), "base"), [1000]);
  const b = prng.normal(prng.fold(root, "data"), [1000]);
  assert.deepEqual(a1, a2);
  assert.notDeepEqual(a1, b);
  assert.notDeepEqual(prng.normal(prng.key(8), [10]), prng.normal(prng.key(7), [10]));
});

test("split children are distinct and independent of later splits", () => {
  const k = prng.key(1);
  const [c0, c1] = prng.split(k, 2) as [prng.Key, prng.Key];
  const [d0] = prng.split(k, 5) as [prng.Key];
  assert.deepEqual(c0, d0);
  assert.notDeepEqual(c0, c1);
});

test("uniform moments and range", () => {
  const u = prng.uniform(prng.key(3), [200_000], -2, 2);
  let sum = 0;
  let sq = 0;
  for (const v of u) {
    assert.ok(v >= -2 && v < 2);
    sum += v;
    sq += v * v;
  }
  const mean = sum / u.length;
  const variance = sq / u.length - mean * mean;
  // Standard error of the mean is sqrt(4/3 / 2e5) ≈ 0.0026; allow 4 s.e.
  assert.ok(Math.abs(mean) < 0.011, `mean ${mean}`);
  assert.ok(Math.abs(variance - 16 / 12) < 0.02, `variance ${variance}`);
});

test("normal moments", () => {
  const x = prng.normal(prng.key(4), [200_001], 3, 1);
  let sum = 0;
  let sq = 0;
  for (const v of x) {
    sum += v;
    sq += v * v;
  }
  const mean = sum / x.length;
  const std = Math.sqrt(sq / x.length - mean * mean);
  assert.ok(Math.abs(mean - 1) < 0.03, `mean ${mean}`);
  assert.ok(Math.abs(std - 3) < 0.03, `std ${std}`);
});

test("permutation is a permutation", () => {
  const p = prng.permutation(prng.key(5), 1000);
  assert.deepEqual([...p].sort((a, b) => a - b), Array.from({ length: 1000 }, (_, i) => i));
  assert.notDeepEqual([...p], Array.from({ length: 1000 }, (_, i) => i));
});

test("bad seeds are rejected", () => {
  assert.throws(() => prng.key(-1), /non-negative integer/);
  assert.throws(() => prng.key(1.5), /non-negative integer/);
});
