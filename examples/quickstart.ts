import { initEngine, prng, mlp, loraConfig, injectLora, loraContext, scaling, adam, createTrainer,
  saveAdapter, loadAdapter, applyAdapter, tensor, readAndDispose, np, type Params, type Tensor } from "lorascope";

await initEngine();
const root = prng.key(0); // same seed → same base model, whatever the adapter
const newBase = () => mlp.init(prng.fold(root, "base"), { sizes: [4, 32, 1] });
const config = loraConfig({ r: 4, lora_alpha: 8, target_modules: ["layers.0", "layers.1"], init_lora_weights: "init-a" });
const ctx = loraContext({ scaling: scaling(config) });
const forward = (p: Params, x: Tensor) => mlp.apply(p, x, ctx);

const x = tensor(prng.normal(prng.fold(root, "x"), [64, 4]), [64, 4]);
const y = tensor(prng.normal(prng.fold(root, "y"), [64, 1]), [64, 1]);
const { params, trainable } = await injectLora(prng.fold(root, "adapter"), newBase(), config);
const trainer = createTrainer({ loss: (p, x, y) => np.square(forward(p, x).sub(y)).mean(), optimizer: adam({ lr: 1e-2 }), trainable });
let state = trainer.init(params);
for (let i = 0; i < 5; i++) ({ state } = await trainer.step(state, x.ref, y.ref));
const tuned = trainer.params(state);
await saveAdapter("quickstart-adapter", tuned, config);

const loaded = await loadAdapter("quickstart-adapter");
const fresh = (await injectLora(prng.fold(root, "adapter"), newBase(), loaded.config)).params;
const reloaded = applyAdapter(fresh, loaded);
const [a, b] = [await readAndDispose(forward(tuned, x.ref)), await readAndDispose(forward(reloaded, x))];
y.dispose(); // every tensor is now released: forward consumed the params and x, readAndDispose the outputs
console.log("identical outputs:", a.every((v, i) => v === b[i]));
