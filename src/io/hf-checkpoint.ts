// A Hugging Face model folder as `save_pretrained` writes it: config.json, and the weights either
// in model.safetensors or in shards listed by model.safetensors.index.json (`weight_map`: tensor
// name → shard file). Tensors are read one at a time by offset (io/safetensors-file.ts) and
// widened to float32, so loading a model holds at most one host tensor besides the device copy.
import { readFile, stat } from "node:fs/promises";
import path from "node:path";
import { UserError } from "../core/errors.ts";
import { setPath, type Params } from "../core/tree.ts";
import { initEngine, tensor } from "../engine/index.ts";
import { checkTensors, slotValues, type HostF32 } from "../models/lm-tensors.ts";
import { ignorableKey, parseLmConfig, tensorSlots, type LmConfig } from "../models/lm.ts";
import { openSafetensors, type SafetensorsFile } from "./safetensors-file.ts";

export const CONFIG_FILE = "config.json";
export const WEIGHTS_FILE = "model.safetensors";
export const INDEX_FILE = "model.safetensors.index.json";

/** An open checkpoint folder: its config.json and its tensors' shapes; data is read on demand. */
export interface HfCheckpoint {
  readonly dir: string;
  /** config.json as parsed JSON. */
  readonly config: Record<string, unknown>;
  /** Tensor name → shape, over all shards. */
  readonly shapes: ReadonlyMap<string, readonly number[]>;
  /** One tensor as float32 (F32, F16, BF16 or F64 in the file). */
  read(name: string): Promise<Float32Array>;
  close(): Promise<void>;
}

async function readJson(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new UserError(code === "ENOENT" ? `${file} does not exist` : `cannot read ${file} (${code ?? String(err)})`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new UserError(`${file} is not valid JSON (${err instanceof Error ? err.message : String(err)})`);
  }
}

const isRecord = (x: unknown): x is Record<string, unknown> => typeof x === "object" && x !== null && !Array.isArray(x);

/** The shard files of a sharded checkpoint, from its index; each name must be a plain file name. */
async function shardFiles(dir: string): Promise<{ files: string[]; weightMap: Map<string, string> }> {
  const file = path.join(dir, INDEX_FILE);
  const index = await readJson(file);
  const map = isRecord(index) ? index["weight_map"] : undefined;
  if (!isRecord(map)) throw new UserError(`${file} has no "weight_map" object (tensor name → shard file)`);
  const weightMap = new Map<string, string>();
  for (const [name, shard] of Object.entries(map)) {
    if (typeof shard !== "string" || shard === "" || shard !== path.basename(shard) || shard.startsWith(".")) {
      throw new UserError(`${file} maps tensor "${name}" to ${JSON.stringify(shard)}, not a file name in the same folder`);
    }
    weightMap.set(name, shard);
  }
  return { files: [...new Set(weightMap.values())], weightMap };
}

async function exists(file: string): Promise<boolean> {
  try {
    await stat(file);
    return true;
  } catch {
    return false;
  }
}

/** Open a checkpoint folder: config.json and the headers of its weight files (validated). */
export async function openHfCheckpoint(dir: string): Promise<HfCheckpoint> {
  const config = await readJson(path.join(dir, CONFIG_FILE));
  if (!isRecord(config)) throw new UserError(`${path.join(dir, CONFIG_FILE)} is not a JSON object`);
  const single = path.join(dir, WEIGHTS_FILE);
  let files: string[];
  let weightMap: Map<string, string> | undefined;
  if (await exists(single)) files = [WEIGHTS_FILE];
  else if (await exists(path.join(dir, INDEX_FILE))) ({ files, weightMap } = await shardFiles(dir));
  else throw new UserError(`${dir} has neither ${WEIGHTS_FILE} nor ${INDEX_FILE}; lorascope reads safetensors checkpoints (save_pretrained's default)`);

  const opened: SafetensorsFile[] = [];
  const owner = new Map<string, SafetensorsFile>();
  try {
    for (const f of files) opened.push(await openSafetensors(path.join(dir, f)));
    for (const st of opened) {
      for (const [name, e] of st.entries) {
        const prev = owner.get(name);
        if (prev !== undefined) throw new UserError(`tensor "${name}" appears in both ${prev.file} and ${st.file}`);
        if (!["F32", "F16", "BF16", "F64"].includes(e.dtype)) {
          throw new UserError(`${st.file}: tensor "${name}" is ${e.dtype}; model weights must be F32, F16, BF16 or F64`);
        }
        owner.set(name, st);
      }
    }
    if (weightMap !== undefined) {
      for (const [name, shard] of weightMap) {
        if (owner.get(name)?.file !== path.join(dir, shard)) {
          throw new UserError(`${path.join(dir, INDEX_FILE)} says tensor "${name}" is in ${shard}, but that file does not hold it`);
        }
      }
    }
  } catch (err) {
    await Promise.all(opened.map((st) => st.close()));
    throw err;
  }
  const shapes = new Map(
    [...owner].map(([name, st]) => [name, (st.entries.get(name)?.shape ?? []) as readonly number[]] as const),
  );
  return {
    dir,
    config,
    shapes,
    read(name) {
      const st = owner.get(name);
      if (st === undefined) throw new UserError(`the checkpoint in ${dir} has no tensor "${name}"`);
      return st.readF32(name);
    },
    close: async () => void (await Promise.all(opened.map((st) => st.close()))),
  };
}

/** Every tensor of a checkpoint folder as float32 on the host, with its config.json. */
export async function loadHfCheckpoint(
  dir: string,
): Promise<{ config: Record<string, unknown>; tensors: Map<string, HostF32> }> {
  const ckpt = await openHfCheckpoint(dir);
  try {
    const tensors = new Map<string, HostF32>();
    for (const [name, shape] of ckpt.shapes) tensors.set(name, { shape, data: await ckpt.read(name) });
    return { config: ckpt.config, tensors };
  } finally {
    await ckpt.close();
  }
}

export interface CausalLM {
  readonly config: LmConfig;
  /** Owned device params, at Hugging Face's module paths. */
  readonly params: Params;
}

/**
 * Load a causal LM folder onto the engine: config.json → architecture (model_type), names and shapes
 * checked against the architecture from the headers alone, then each tensor read, widened to
 * float32 and moved to the device in turn.
 */
export async function loadCausalLM(dir: string): Promise<CausalLM> {
  await initEngine();
  const ckpt = await openHfCheckpoint(dir);
  try {
    const config = parseLmConfig(ckpt.config, path.join(dir, CONFIG_FILE));
    const slots = tensorSlots(config, ckpt.shapes.keys());
    const source = `the checkpoint in ${dir}`;
    checkTensors(slots, ckpt.shapes, ignorableKey(config), source, config.modelType);
    let params: Params = {};
    for (const s of slots) params = setPath(params, s.path, tensor(slotValues(s, await ckpt.read(s.key)), s.shape));
    return { config, params };
  } finally {
    await ckpt.close();
  }
}
