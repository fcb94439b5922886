// The ownership rules of src/engine/ownership.ts, checked with the live-buffer counter.
import { test, before } from "node:test";
import assert from "node:assert/strict";
import {
  initEngine, trackAllocations, liveBuffers, tensor, read, readScalar, np, jit, valueAndGrad, refTree, disposeTree,
  type Tensor,
} from "../src/engine/index.ts";

before(async () => {
  await initEngine();
  await trackAllocations();
});

test("read borrows: the tensor stays alive and usable", async () => {
  const base = liveBuffers();
  const t = tensor([1, 2, 3], [3]);
  assert.deepEqual([...(await read(t))], [1, 2, 3]);
  const alive = liveBuffers();
  assert.ok(alive > base, "the tensor holds a buffer");
  assert.deepEqual([...(await read(t))], [1, 2, 3]); // still readable: read borrowed it
  assert.equal(liveBuffers(), alive);
  const sum = t.ref.sum();
  assert.equal(await readScalar(sum), 6);
  sum.dispose(); // readScalar borrowed it, so the caller still owns it
  t.dispose();
  assert.equal(liveBuffers(), base);
});

test("an op consumes its arguments; .ref keeps them", async () => {
  const base = liveBuffers();
  const a = tensor([1, 2], [2]);
  const b = a.ref.add(1); // a kept
  const c = a.mul(b); // both consumed
  assert.deepEqual([...(await read(c))], [2, 6]);
  c.dispose();
  assert.equal(liveBuffers(), base);
});

test("refTree/disposeTree balance", () => {
  const base = liveBuffers();
  const p = { w: tensor([1], [1]), sub: { b: tensor([2], [1]) } };
  const kept = refTree(p);
  disposeTree(kept);
  disposeTree(p);
  assert.equal(liveBuffers(), base);
});

test("a jitted training loop leaves no buffers behind", async () => {
  type P = { w: Tensor };
  const loss = (p: P, x: Tensor, y: Tensor) => np.square(np.matmul(x, p.w).sub(y)).mean();
  const step = jit((w: Tensor, x: Tensor, y: Tensor): [Tensor, Tensor] => {
    const [l, g] = valueAndGrad(loss)({ w: w.ref }, x, y);
    return [l, w.sub(g.w.mul(0.1))];
  });
  const x = tensor([1, 0, 0, 1, 1, 1], [3, 2]);
  const y = tensor([1, 2, 3], [3, 1]);
  let w = tensor([0, 0], [2, 1]);
  const run = async (steps: number) => {
    let last = NaN;
    for (let i = 0; i < steps; i++) {
      const [l, w2] = step(w, x.ref, y.ref);
      w = w2;
      last = await readScalar(l);
      l.dispose();
    }
    return last;
  };
  const first = await run(1); // compiles and caches
  const afterOne = liveBuffers();
  const last = await run(50);
  assert.equal(liveBuffers(), afterOne, "live buffers grew across steps");
  assert.ok(last < first / 10, `loss should fall: ${first} -> ${last}`);
  w.dispose();
  x.dispose();
  y.dispose();
  step.dispose();
});
