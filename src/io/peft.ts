// PEFT adapter directories: adapter_model.safetensors + adapter_config.json.
//
// On-disk keys (huggingface/peft src/peft/utils/save_and_load.py, stored version 000b584,
// `get_peft_model_state_dict` and `set_peft_model_state_dict`):
// - LoRA factors: `base_model.model.<module path>.lora_A.weight` [r, in] and `….lora_B.weight`
//   [out, r]; the in-memory adapter name (`lora_A.default.weight`) is removed on saving.
// - modules_to_save: the wrapper's `modules_to_save.<adapter>.` infix is removed too
//   (`ModulesToSaveWrapper.adapter_state_dict`, src/peft/utils/other.py stored version c1a876f),
//   so a saved head is `base_model.model.<module path>.weight` (and `.bias`), the same key as the
//   plain module; `adapter_state_dict_load_map` puts the infix back when PEFT loads it.
// Tensors are written with metadata {"format": "pt"}, like PEFT's `save_pretrained`.
import { mkdir, readFile, stat } from "node:fs/promises";
import path from "node:path";
import { read, tensor, type Tensor } from "../engine/index.ts";
import { UserError } from "../core/errors.ts";
import { flatten, getPath, isTensor, modulePaths, setPath, type Params } from "../core/tree.ts";
import { matchesTarget, type LoraConfig } from "../lora/config.ts";
import { loraModulePaths } from "../lora/merge.ts";
import { writeFileAtomic } from "./atomic.ts";
import { parsePeftConfig, peftConfigJson, type AdapterMeta } from "./peft-config.ts";
import { writeSafetensors, type Dtype, type HostTensor, type WriteDtype, type WriteTensor } from "./safetensors.ts";
import { openSafetensors } from "./safetensors-file.ts";

export const ADAPTER_CONFIG = "adapter_config.json";
export const ADAPTER_WEIGHTS = "adapter_model.safetensors";
const PREFIX = "base_model.model.";

/** A float tensor read from an adapter file: values widened to float32, `dtype` as stored. */
export interface FloatTensor {
  readonly dtype: Dtype;
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

export interface LoadedAdapter {
  readonly config: LoraConfig;
  readonly meta: AdapterMeta;
  /** The adapter_config.json object as found on disk. */
  readonly rawConfig: Record<string, unknown>;
  /** LoRA factors by module path (without `base_model.model.`), in file order. */
  readonly modules: ReadonlyMap<string, { readonly A: FloatTensor; readonly B: FloatTensor }>;
  /** Fully saved parameters (modules_to_save) by parameter path, e.g. `classifier.weight`. */
  readonly saved: ReadonlyMap<string, FloatTensor>;
}

export interface SaveOptions extends AdapterMeta {
  /** Storage dtype of every tensor (default F32, what PEFT writes after its fp32 autocast). */
  readonly dtype?: WriteDtype;
}

function factor(p: Params, modulePath: string, which: "lora_A" | "lora_B"): Tensor {
  const t = getPath(p, `${modulePath}.${which}.weight`);
  if (t === undefined || !isTensor(t)) {
    throw new UserError(`module "${modulePath}" has no ${which}.weight tensor`);
  }
  return t;
}

/** The modules of `p` selected by `modules_to_save` (never a LoRA-wrapped module's parts). */
function modulesToSave(p: Params, config: LoraConfig): string[] {
  if (config.modules_to_save.length === 0) return [];
  const lora = new Set(loraModulePaths(p));
  const candidates = modulePaths(p).filter((m) => !/(^|\.)lora_[AB]$/.test(m));
  const chosen = candidates.filter((m) => matchesTarget(config.modules_to_save, m));
  const both = chosen.find((m) => lora.has(m));
  if (both !== undefined) {
    throw new UserError(
      `modules_to_save selects "${both}", which is a LoRA module; a module is either adapted or saved in full`,
    );
  }
  for (const want of config.modules_to_save) {
    if (!chosen.some((m) => matchesTarget([want], m))) {
      throw new UserError(`modules_to_save entry "${want}" matches no module of the model`);
    }
  }
  return chosen;
}

/**
 * Write `params`' LoRA factors (and modules_to_save) as a PEFT adapter directory, creating `dir`.
 * Borrows `params`. Both files are written atomically.
 */
export async function saveAdapter(
  dir: string,
  params: Params,
  config: LoraConfig,
  opts: SaveOptions = {},
): Promise<void> {
  const entries: Array<[string, WriteTensor]> = [];
  const lora = loraModulePaths(params);
  if (lora.length === 0 && config.modules_to_save.length === 0) {
    throw new UserError("the model has no LoRA modules to save (no subtree holds lora_A and lora_B)");
  }
  for (const m of lora) {
    const A = factor(params, m, "lora_A");
    const B = factor(params, m, "lora_B");
    const [r, inDim] = A.shape;
    const [outDim, rB] = B.shape;
    if (A.shape.length !== 2 || B.shape.length !== 2 || r !== config.r || rB !== config.r) {
      throw new UserError(
        `module "${m}" has lora_A [${A.shape.join(", ")}] and lora_B [${B.shape.join(", ")}]; ` +
          `with r = ${config.r} they must be [${config.r}, in] and [out, ${config.r}]`,
      );
    }
    entries.push([`${PREFIX}${m}.lora_A.weight`, { shape: [r, inDim as number], data: await read(A) }]);
    entries.push([`${PREFIX}${m}.lora_B.weight`, { shape: [outDim as number, rB], data: await read(B) }]);
  }
  for (const m of modulesToSave(params, config)) {
    const sub = getPath(params, m);
    if (sub === undefined || isTensor(sub)) continue;
    for (const [leaf, t] of flatten(sub)) {
      entries.push([`${PREFIX}${m}.${leaf}`, { shape: [...t.shape], data: await read(t) }]);
    }
  }
  await mkdir(dir, { recursive: true });
  await writeSafetensors(path.join(dir, ADAPTER_WEIGHTS), entries, {
    metadata: { format: "pt" },
    ...(opts.dtype === undefined ? {} : { dtype: opts.dtype }),
  });
  const meta: AdapterMeta = {
    ...(opts.base_model_name_or_path === undefined ? {} : { base_model_name_or_path: opts.base_model_name_or_path }),
    ...(opts.task_type === undefined ? {} : { task_type: opts.task_type }),
    ...(opts.fan_in_fan_out === undefined ? {} : { fan_in_fan_out: opts.fan_in_fan_out }),
  };
  await writeFileAtomic(path.join(dir, ADAPTER_CONFIG), JSON.stringify(peftConfigJson(config, meta), null, 2) + "\n");
}

async function isFile(p: string): Promise<boolean> {
  return stat(p).then((s) => s.isFile(), () => false);
}

/** Every tensor of an adapter file, read by offset (files over 2 GiB work; safetensors-file.ts). */
async function readAdapterTensors(file: string): Promise<Map<string, HostTensor>> {
  const f = await openSafetensors(file);
  try {
    const out = new Map<string, HostTensor>();
    for (const name of f.entries.keys()) out.set(name, await f.read(name));
    return out;
  } finally {
    await f.close();
  }
}

/** Read a PEFT adapter directory (written by lorascope, PEFT, or any tool using PEFT's layout). */
export async function loadAdapter(dir: string): Promise<LoadedAdapter> {
  const dirStat = await stat(dir).catch(() => undefined);
  if (dirStat === undefined) throw new UserError(`adapter directory ${dir} does not exist`);
  if (!dirStat.isDirectory()) throw new UserError(`${dir} is not a directory; give the adapter directory`);
  const cfgFile = path.join(dir, ADAPTER_CONFIG);
  const wFile = path.join(dir, ADAPTER_WEIGHTS);
  if (!(await isFile(cfgFile))) {
    throw new UserError(
      `${dir} has no ${ADAPTER_CONFIG}; a PEFT adapter directory holds ${ADAPTER_CONFIG} and ${ADAPTER_WEIGHTS}`,
    );
  }
  if (!(await isFile(wFile))) {
    const bin = await isFile(path.join(dir, "adapter_model.bin"));
    throw new UserError(
      bin
        ? `${dir} holds adapter_model.bin (a PyTorch pickle), which lorascope does not read; save the adapter with safetensors`
        : `${dir} has no ${ADAPTER_WEIGHTS}; a PEFT adapter directory holds ${ADAPTER_CONFIG} and ${ADAPTER_WEIGHTS}`,
    );
  }
  let rawConfig: unknown;
  try {
    rawConfig = JSON.parse(await readFile(cfgFile, "utf8"));
  } catch (err) {
    throw new UserError(`${cfgFile} is not valid JSON (${err instanceof Error ? err.message : String(err)})`);
  }
  const tensors = await readAdapterTensors(wFile);
  if (tensors.size === 0) throw new UserError(`${wFile} holds no tensors; a PEFT adapter holds lora_A and lora_B weights`);

  const A = new Map<string, FloatTensor>();
  const B = new Map<string, FloatTensor>();
  const saved = new Map<string, FloatTensor>();
  for (const [key, t] of tensors) {
    if (!key.startsWith(PREFIX)) {
      throw new UserError(`${wFile}: tensor "${key}" does not start with "${PREFIX}" as PEFT adapter keys do`);
    }
    if (t.dtype !== "F32" && t.dtype !== "F16" && t.dtype !== "BF16" && t.dtype !== "F64") {
      throw new UserError(`${wFile}: tensor "${key}" has dtype ${t.dtype}; adapter tensors must be floating point`);
    }
    const ft: FloatTensor = {
      dtype: t.dtype,
      shape: t.shape,
      data: t.data instanceof Float32Array ? t.data : Float32Array.from(t.data),
    };
    const rest = key.slice(PREFIX.length);
    const m = /^(.+)\.lora_([AB])\.weight$/.exec(rest);
    if (m !== null) (m[2] === "A" ? A : B).set(m[1] as string, ft);
    else if (/(^|\.)lora_/.test(rest)) {
      throw new UserError(
        `${wFile}: tensor "${key}" is a LoRA tensor kind lorascope does not read (only lora_A.weight and lora_B.weight; not embedding adapters or DoRA)`,
      );
    } else saved.set(rest, ft);
  }
  const { config, meta } = parsePeftConfig(rawConfig, cfgFile, [...A.keys()]);

  const modules = new Map<string, { A: FloatTensor; B: FloatTensor }>();
  for (const [name, a] of A) {
    const b = B.get(name);
    if (b === undefined)
      throw new UserError(`${wFile}: "${PREFIX}${name}.lora_A.weight" has no matching lora_B.weight`);
    const [rA] = a.shape;
    if (a.shape.length !== 2 || rA !== config.r) {
      throw new UserError(
        `${wFile}: "${PREFIX}${name}.lora_A.weight" has shape [${a.shape.join(", ")}]; with r = ${config.r} it must be [${config.r}, in]`,
      );
    }
    if (b.shape.length !== 2 || b.shape[1] !== config.r) {
      throw new UserError(
        `${wFile}: "${PREFIX}${name}.lora_B.weight" has shape [${b.shape.join(", ")}]; with r = ${config.r} it must be [out, ${config.r}]`,
      );
    }
    modules.set(name, { A: a, B: b });
  }
  for (const name of B.keys()) {
    if (!A.has(name)) throw new UserError(`${wFile}: "${PREFIX}${name}.lora_B.weight" has no matching lora_A.weight`);
  }
  return { config, meta, rawConfig: rawConfig as Record<string, unknown>, modules, saved };
}

const sameShape = (a: readonly number[], b: readonly number[]): boolean =>
  a.length === b.length && a.every((d, i) => d === b[i]);

/**
 * Put a loaded adapter's tensors into a model's Params tree (which must already hold LoRA modules of
 * the same config). Every shape is checked first; on any mismatch a UserError names the key and
 * nothing is consumed. On success consumes `params` (replaced tensors are disposed) and returns the
 * new tree. Needs `initEngine()`.
 */
export function applyAdapter(params: Params, loaded: LoadedAdapter): Params {
  const writes: Array<[string, FloatTensor]> = [];
  const expect = (leaf: string, t: FloatTensor): void => {
    const key = `${PREFIX}${leaf}`;
    const have = getPath(params, leaf);
    if (have === undefined || !isTensor(have)) {
      const modulePath = leaf.replace(/\.(lora_[AB]\.)?[^.]+$/, "");
      const mod = getPath(params, modulePath);
      throw new UserError(
        mod === undefined || isTensor(mod)
          ? `adapter key "${key}" refers to module "${modulePath}", which the model does not have`
          : `adapter key "${key}" has no tensor at "${leaf}" in the model (is "${modulePath}" targeted with the same config?)`,
      );
    }
    if (!sameShape(have.shape, t.shape)) {
      throw new UserError(
        `adapter key "${key}" has shape [${t.shape.join(", ")}] but the model's tensor is [${have.shape.join(", ")}]`,
      );
    }
    writes.push([leaf, t]);
  };
  for (const [m, { A, B }] of loaded.modules) {
    expect(`${m}.lora_A.weight`, A);
    expect(`${m}.lora_B.weight`, B);
  }
  for (const [leaf, t] of loaded.saved) expect(leaf, t);
  for (const m of loraModulePaths(params)) {
    if (!loaded.modules.has(m)) {
      throw new UserError(`the model has a LoRA module at "${m}" but the adapter has no "${PREFIX}${m}.lora_A.weight"`);
    }
  }
  let out = params;
  for (const [leaf, t] of writes) {
    const old = getPath(out, leaf) as Tensor;
    out = setPath(out, leaf, tensor(t.data, t.shape));
    old.dispose();
  }
  return out;
}
