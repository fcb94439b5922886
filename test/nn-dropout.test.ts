// nn/dropout: inverted dropout from an explicit key.
import { test, before } from "node:test";
import assert from "node:assert/strict";
import * as prng from "../src/core/prng.ts";
import { initEngine, read, full } from "../src/engine/index.ts";
import * as dropout from "../src/nn/dropout.ts";

before(async () => {
  await initEngine();
});

test("mask keeps a 1 − rate fraction, scaled by 1/(1 − rate); same key, same mask", async () => {
  const rate = 0.25;
  const n = 40000;
  const m = await read(dropout.mask(prng.key(1), [n], rate));
  const kept = m.filter((v) => v !== 0);
  assert.ok(kept.every((v) => Math.abs(v - 1 / 0.75) < 1e-6), "kept entries are 1/(1 − rate)");
  const frac = kept.length / n;
  const se = Math.sqrt(0.75 * 0.25 / n);
  assert.ok(Math.abs(frac - 0.75) < 5 * se, `kept fraction ${frac}`);
  assert.deepEqual(await read(dropout.mask(prng.key(1), [n], rate)), m);
  assert.notDeepEqual(await read(dropout.mask(prng.key(2), [n], rate)), m);
});

test("apply: identity at rate 0, mean preserved otherwise; rate outside [0,1) rejected", async () => {
  const x = full([1000], 2);
  const same = dropout.apply(prng.key(3), x, 0);
  assert.ok((await read(same)).every((v) => v === 2));
  const y = await read(dropout.apply(prng.key(3), same, 0.5));
  assert.ok(y.every((v) => v === 0 || v === 4));
  const mean = y.reduce((a, b) => a + b, 0) / y.length;
  assert.ok(Math.abs(mean - 2) < 5 * 2 / Math.sqrt(1000), `mean ${mean}`);
  assert.throws(() => dropout.mask(prng.key(3), [2], 1), /\[0, 1\)/);
});
