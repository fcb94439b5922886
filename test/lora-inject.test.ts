// Injection by module path, trainable/frozen split, and the step-0 invariants on an MLP with LoRA:
// the model is unchanged at init (except `none`), ∂L/∂A = 0 exactly under init-a, ∂L/∂B = 0 under init-b.
import { test, before } from "node:test";
import assert from "node:assert/strict";
import * as prng from "../src/core/prng.ts";
import { UserError } from "../src/core/errors.ts";
import { combine, flatten, getPath, type Params } from "../src/core/tree.ts";
import { initEngine, read, refTree, disposeTree, valueAndGrad, np, tensor, type Tensor } from "../src/engine/index.ts";
import * as mlp from "../src/nn/mlp.ts";
import { loraConfig, scaling, type InitScheme, type LoraConfig } from "../src/lora/config.ts";
import { context } from "../src/lora/linear.ts";
import { injectLora, splitTrainable } from "../src/lora/inject.ts";
import { maxAbsDiff } from "./support/reference.ts";

before(async () => {
  await initEngine();
});

const sizes = [6, 8, 8, 4];
const base = (): Params => mlp.init(prng.fold(prng.key(0), "base"), { sizes });
const adapterKey = prng.fold(prng.key(0), "adapter");
const x = (): Tensor => tensor(prng.normal(prng.key(9), [5, 6]), [5, 6]);

function cfg(partial: Partial<LoraConfig> & Pick<LoraConfig, "target_modules">): LoraConfig {
  return loraConfig({ r: 4, lora_alpha: 8, ...partial });
}

test("target_modules by list (exact and dotted suffix) and by full-match regex", async () => {
  const exact = await injectLora(adapterKey, base(), cfg({ target_modules: ["layers.1"] }));
  assert.deepEqual(exact.targets, ["layers.1"]);
  const suffix = await injectLora(adapterKey, base(), cfg({ target_modules: ["0", "2"] }));
  assert.deepEqual(suffix.targets, ["layers.0", "layers.2"]);
  const regex = await injectLora(adapterKey, base(), cfg({ target_modules: "layers\\.[12]" }));
  assert.deepEqual(regex.targets, ["layers.1", "layers.2"]);
  const a = getPath(regex.params, "layers.1.lora_A.weight") as Tensor;
  const b = getPath(regex.params, "layers.1.lora_B.weight") as Tensor;
  assert.deepEqual(a.shape, [4, 8]); // [r, in]
  assert.deepEqual(b.shape, [8, 4]); // [out, r]
  assert.equal(getPath(regex.params, "layers.0.lora_A"), undefined);
  for (const inj of [exact, suffix, regex]) disposeTree(inj.params);
});

test("no match: a UserError listing the module paths that exist", async () => {
  await assert.rejects(
    injectLora(adapterKey, base(), cfg({ target_modules: ["q_proj"] })),
    (e: unknown) =>
      e instanceof UserError &&
      /matched no module; the model's modules are: layers\.0, layers\.1, layers\.2$/.test(e.message),
  );
  await assert.rejects(
    injectLora(adapterKey, base(), cfg({ target_modules: ["layers.0"], modules_to_save: ["head"] })),
    /modules_to_save entry "head" matched no module/,
  );
});

test("LoRA factors and modules_to_save are trainable; everything else is frozen", async () => {
  const inj = await injectLora(
    adapterKey,
    base(),
    cfg({ target_modules: ["layers.0", "layers.1"], modules_to_save: ["layers.2"] }),
  );
  assert.deepEqual(inj.trainablePaths, [
    "layers.0.lora_A.weight",
    "layers.0.lora_B.weight",
    "layers.1.lora_A.weight",
    "layers.1.lora_B.weight",
    "layers.2.weight",
    "layers.2.bias",
  ]);
  const { trainable, frozen } = splitTrainable(inj.params, inj.trainable);
  assert.deepEqual(
    flatten(frozen).map(([p]) => p),
    ["layers.0.weight", "layers.0.bias", "layers.1.weight", "layers.1.bias"],
  );
  assert.equal(flatten(trainable).length, 6);
  disposeTree(combine(trainable, frozen));
});

test("per-module keys: adding a target does not change another module's factors", async () => {
  const one = await injectLora(adapterKey, base(), cfg({ target_modules: ["layers.0"], init_lora_weights: "none" }));
  const two = await injectLora(
    adapterKey,
    base(),
    cfg({ target_modules: ["layers.0", "layers.1"], init_lora_weights: "none" }),
  );
  assert.deepEqual(
    await read(getPath(one.params, "layers.0.lora_A.weight") as Tensor),
    await read(getPath(two.params, "layers.0.lora_A.weight") as Tensor),
  );
  assert.deepEqual(two.warnings.length, 1);
  assert.match(two.warnings[0] as string, /changes the model's output at step 0/);
  assert.deepEqual(one.warnings.length, 1);
  disposeTree(one.params);
  disposeTree(two.params);
});

/** Max |f_LoRA(x) − f_base(x)| of the MLP after injecting `scheme` into every layer. */
async function outputChange(scheme: InitScheme): Promise<number> {
  const c = cfg({ target_modules: "layers\\.\\d+", init_lora_weights: scheme });
  const ref = mlp.apply(base(), x());
  const inj = await injectLora(adapterKey, base(), c);
  const y = mlp.apply(inj.params, x(), context({ scaling: scaling(c) }));
  const d = await maxAbsDiff(y, ref);
  y.dispose();
  ref.dispose();
  return d;
}

test("the model is unchanged at step 0 for the zero-product schemes and pissa, changed for none", async () => {
  for (const scheme of ["init-a", "init-b", "gaussian", "gaussian-b", "orthogonal"] as const) {
    assert.ok((await outputChange(scheme)) < 1e-6, scheme);
  }
  // pissa moves σ₁..σ_r from W* into s·B·A: the same sum rounded differently in float32.
  assert.ok((await outputChange("pissa")) < 1e-4, "pissa");
  assert.ok((await outputChange("none")) > 1e-3, "none");
});

test("pissa rewrites the base weight and both factors are non-zero", async () => {
  const before0 = await read(getPath(base(), "layers.0.weight") as Tensor);
  const inj = await injectLora(adapterKey, base(), cfg({ target_modules: ["layers.0"], init_lora_weights: "pissa" }));
  const after0 = await read(getPath(inj.params, "layers.0.weight") as Tensor);
  assert.ok(after0.some((v, i) => Math.abs(v - (before0[i] as number)) > 1e-3), "W* rewritten");
  for (const f of ["lora_A", "lora_B"]) {
    const d = await read(getPath(inj.params, `layers.0.${f}.weight`) as Tensor);
    assert.ok(d.some((v) => Math.abs(v) > 1e-3), `${f} non-zero`);
  }
  disposeTree(inj.params);
});

/** Gradients of ½‖f(x) − t‖² w.r.t. the trainable part of an all-layer LoRA MLP at step 0. */
async function stepZeroGrads(scheme: InitScheme): Promise<Map<string, Float32Array>> {
  const c = cfg({ target_modules: "layers\\.\\d+", init_lora_weights: scheme });
  const inj = await injectLora(adapterKey, base(), c);
  const { trainable, frozen } = splitTrainable(inj.params, inj.trainable);
  const ctx = context({ scaling: scaling(c) });
  const t = tensor(prng.normal(prng.key(10), [5, 4]), [5, 4]);
  const loss = (tr: Params, fr: Params, xx: Tensor, tt: Tensor): Tensor =>
    np.square(np.subtract(mlp.apply(combine(tr, fr), xx, ctx), tt)).sum().mul(0.5);
  const g = valueAndGrad(loss)(refTree(trainable), refTree(frozen), x(), t)[1];
  const out = new Map<string, Float32Array>();
  for (const [p, v] of flatten(g)) out.set(p, await read(v));
  disposeTree(g);
  disposeTree(combine(trainable, frozen));
  return out;
}

const maxAbs = (a: Float32Array): number => a.reduce((m, v) => Math.max(m, Math.abs(v)), 0);

test("step 0: ∂L/∂A is exactly 0 under init-a (B = 0) and ∂L/∂B exactly 0 under init-b (A = 0)", async () => {
  const ga = await stepZeroGrads("init-a");
  const gb = await stepZeroGrads("init-b");
  for (const i of [0, 1, 2]) {
    assert.equal(maxAbs(ga.get(`layers.${i}.lora_A.weight`) as Float32Array), 0, `init-a dA layer ${i}`);
    assert.ok(maxAbs(ga.get(`layers.${i}.lora_B.weight`) as Float32Array) > 1e-4, `init-a dB layer ${i} non-zero`);
    assert.equal(maxAbs(gb.get(`layers.${i}.lora_B.weight`) as Float32Array), 0, `init-b dB layer ${i}`);
    assert.ok(maxAbs(gb.get(`layers.${i}.lora_A.weight`) as Float32Array) > 1e-4, `init-b dA layer ${i} non-zero`);
  }
});
