// Shared loader for test/fixtures/optim.json (made by scripts/fixtures/make_optim_fixtures.py with
// PyTorch 1.13): the problems, their losses rebuilt with the engine, and a trajectory comparison.
import { readFileSync } from "node:fs";
import assert from "node:assert/strict";
import { np, tensor, read, type Tensor } from "../../src/engine/index.ts";
import { flatten, unflatten, type Params } from "../../src/core/tree.ts";

export interface StoredTensor {
  shape: number[];
  data: number[];
}
export interface OptimFixture {
  torch: string;
  steps: number;
  problems: {
    lsq: { X: StoredTensor; Y: StoredTensor; init: Record<string, StoredTensor> };
    sep: { init: Record<string, StoredTensor>; h: Record<string, StoredTensor>; c: Record<string, StoredTensor> };
    far: { init: Record<string, StoredTensor>; h: Record<string, StoredTensor>; c: Record<string, StoredTensor> };
  };
  cases: Record<
    string,
    { problem: "lsq" | "sep" | "far"; config: Record<string, unknown>; trajectory: Array<Record<string, number[]>> }
  >;
  schedules: Record<string, number[]>;
}

export const fixture = JSON.parse(
  readFileSync(new URL("../fixtures/optim.json", import.meta.url), "utf8"),
) as OptimFixture;

const toTensor = (s: StoredTensor): Tensor => tensor(s.data, s.shape);

export function treeOf(stored: Record<string, StoredTensor>): Params {
  return unflatten(Object.entries(stored).map(([k, v]) => [k, toTensor(v)] as const));
}

/** The problem's initial parameters and its loss (the loss consumes its params argument). */
export function problem(name: "lsq" | "sep" | "far"): { init: () => Params; loss: (p: Params) => Tensor } {
  if (name === "lsq") {
    const pr = fixture.problems.lsq;
    const X = toTensor(pr.X);
    const Y = toTensor(pr.Y);
    return {
      init: () => treeOf(pr.init),
      loss: (p) => {
        const layer = p["layer"] as Params;
        const pred = np.matmul(X.ref, layer["weight"] as Tensor).add(layer["bias"] as Tensor); // [8,4]@[4,3] -> [8,3]
        return np.square(pred.sub(Y.ref)).sum().mul(0.5 / 8);
      },
    };
  }
  const pr = fixture.problems[name];
  const h = new Map(Object.entries(pr.h).map(([k, v]) => [k, toTensor(v)]));
  const c = new Map(Object.entries(pr.c).map(([k, v]) => [k, toTensor(v)]));
  return {
    init: () => treeOf(pr.init),
    loss: (p) => {
      let total: Tensor | undefined;
      for (const [path, t] of flatten(p)) {
        const term = (h.get(path) as Tensor).ref.mul(np.square(t.sub((c.get(path) as Tensor).ref))).sum().mul(0.5);
        total = total === undefined ? term : total.add(term);
      }
      return total as Tensor;
    },
  };
}

/**
 * Compare parameters with a torch snapshot at 1e-5 relative. The scale floor of 0.1 keeps entries
 * that pass near zero from demanding a relative accuracy float32 arithmetic cannot give there
 * (torch and the engine sum in different orders); it is still 1e-6 absolute.
 */
export async function assertClose(params: Params, expected: Record<string, number[]>, what: string): Promise<void> {
  const got = flatten(params);
  assert.deepEqual(got.map(([k]) => k).sort(), Object.keys(expected).sort(), `${what}: parameter paths`);
  for (const [path, t] of got) {
    const a = await read(t);
    const b = expected[path] as number[];
    assert.equal(a.length, b.length, `${what} ${path}: size`);
    for (let i = 0; i < b.length; i++) {
      const want = b[i] as number;
      const err = Math.abs((a[i] as number) - want);
      const tol = 1e-5 * Math.max(Math.abs(want), 0.1);
      if (!(err <= tol)) {
        assert.fail(
          `${what} ${path}[${i}]: got ${String(a[i])}, torch ${want} (|diff| ${err.toExponential(2)} > ${tol.toExponential(2)})`,
        );
      }
    }
  }
}
