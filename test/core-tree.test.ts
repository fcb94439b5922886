import { test, before } from "node:test";
import assert from "node:assert/strict";
import { initEngine, tensor, read, type Tensor } from "../src/engine/index.ts";
import { flatten, unflatten, getPath, setPath, partition, combine, modulePaths, isTensor } from "../src/core/index.ts";

before(async () => {
  await initEngine();
});

function model() {
  return {
    layers: {
      "0": { q_proj: { weight: tensor([1, 2], [1, 2]), bias: tensor([0], [1]) } },
      "1": { q_proj: { weight: tensor([3, 4], [1, 2]) } },
    },
    head: { weight: tensor([5], [1, 1]) },
  };
}

test("flatten gives dotted paths; unflatten inverts it", () => {
  const p = model();
  const flat = flatten(p);
  assert.deepEqual(
    flat.map(([k]) => k),
    ["layers.0.q_proj.weight", "layers.0.q_proj.bias", "layers.1.q_proj.weight", "head.weight"],
  );
  const back = unflatten(flat);
  assert.deepEqual(flatten(back).map(([k]) => k), flat.map(([k]) => k));
  assert.equal(getPath(back, "layers.1.q_proj.weight"), getPath(p, "layers.1.q_proj.weight"));
});

test("getPath / setPath with structural sharing", async () => {
  const p = model();
  const q = setPath(p, "layers.1.q_proj.lora_A.weight", tensor([9, 9], [1, 2]));
  assert.equal(getPath(p, "layers.1.q_proj.lora_A"), undefined);
  assert.ok(isTensor(getPath(q, "layers.1.q_proj.lora_A.weight")));
  assert.equal(q["head"], p.head);
  assert.deepEqual([...(await read(getPath(q, "layers.1.q_proj.lora_A.weight") as Tensor))], [9, 9]);
  assert.throws(() => setPath(p, "head.weight.x", tensor([1], [1])), /is a tensor/);
});

test("partition splits leaves disjointly and combine restores them", () => {
  const p = model();
  const [bias, rest] = partition(p, (path) => path.endsWith(".bias"));
  assert.deepEqual(flatten(bias).map(([k]) => k), ["layers.0.q_proj.bias"]);
  assert.equal(flatten(rest).length, 3);
  const all = combine(rest, bias);
  assert.equal(flatten(all).length, 4);
  assert.throws(() => combine(rest, rest), /both trees/);
});

test("modulePaths lists modules holding a weight", () => {
  assert.deepEqual(modulePaths(model()), ["layers.0.q_proj", "layers.1.q_proj", "head"]);
});
