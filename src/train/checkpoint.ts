// OUT/checkpoint/: everything a run needs to continue exactly where it was — the trainable
// parameters, the optimizer state (Adam moments and the like), the step count and whatever the
// caller's loop keeps (data-order position and key, early-stopping state) — so that a resumed run
// ends bit for bit where the uninterrupted one does. Model-agnostic: tensors are trees, the loop's
// own state is JSON, and host-side float64 arrays (e.g. the previous measurement of an instrument)
// ride along as raw bytes.
//
//   checkpoint/state.safetensors   F32: "params.<path>" (trainable leaves), "opt.<path>" (optimizer state)
//   checkpoint/host.f64            the float64 arrays, back to back (little-endian)
//   checkpoint/checkpoint.json     {format, step, meta, host: {name: [offset, length]}}
//
// Written atomically as a folder (io/atomic.ts buildFolderAtomic, "replace"): the files go to a
// temporary folder beside it, which then replaces the old checkpoint by rename. A kill between the two
// renames leaves `.checkpoint.old`, which `loadCheckpoint` falls back to.
import fs from "node:fs";
import { rm } from "node:fs/promises";
import path from "node:path";
import { UserError } from "../core/errors.ts";
import { isTensor, type Params } from "../core/tree.ts";
import { read, tensor, type JsTree, type Tensor } from "../engine/index.ts";
import { buildFolderAtomic, replacedFolder, writeFilesFlushed } from "../io/atomic.ts";
import { encodeSafetensors, readSafetensors } from "../io/safetensors.ts";
import type { OptState } from "../optim/index.ts";

export const CHECKPOINT_DIR = "checkpoint";
/** Where the previous checkpoint sits while a new one replaces it (buildFolderAtomic's "replace"). */
const OLD_DIR = path.basename(replacedFolder(CHECKPOINT_DIR));
const STATE_FILE = "state.safetensors";
const HOST_FILE = "host.f64";
const META_FILE = "checkpoint.json";
const FORMAT = "lorascope-checkpoint-1";

export interface Checkpoint<M> {
  /** Updates applied so far. */
  readonly step: number;
  readonly trainable: Params;
  readonly optState: OptState;
  /** The loop's own state (JSON). */
  readonly meta: M;
  readonly host: ReadonlyMap<string, Float64Array>;
}

/** Tensor leaves of a tree of records and arrays, with dotted paths ("1.mu.layers.0.q_proj…"). */
function leaves(tree: JsTree<Tensor>, prefix: string, out: Array<[string, Tensor]> = []): Array<[string, Tensor]> {
  if (isTensor(tree)) {
    out.push([prefix, tree]);
    return out;
  }
  const children: Array<[string, JsTree<Tensor>]> = Array.isArray(tree)
    ? tree.map((v, i) => [String(i), v])
    : Object.entries(tree as Record<string, JsTree<Tensor>>);
  for (const [k, v] of children) leaves(v, prefix === "" ? k : `${prefix}.${k}`, out);
  return out;
}

/** `template` with every tensor leaf replaced by `take(path, leaf)`. Consumes the template's leaves. */
function replaceLeaves<T extends JsTree<Tensor>>(
  template: T,
  prefix: string,
  take: (p: string, t: Tensor) => Tensor,
): T {
  if (isTensor(template)) return take(prefix, template) as T;
  const at = (k: string): string => (prefix === "" ? k : `${prefix}.${k}`);
  if (Array.isArray(template)) return template.map((v, i) => replaceLeaves(v, at(String(i)), take)) as T;
  const out: Record<string, JsTree<Tensor>> = {};
  const entries = Object.entries(template as Record<string, JsTree<Tensor>>);
  for (const [k, v] of entries) out[k] = replaceLeaves(v, at(k), take);
  return out as T;
}

/** Write OUT/checkpoint atomically. Borrows every tensor (reads them to the host). */
export async function saveCheckpoint<M>(outDir: string, c: Checkpoint<M>): Promise<void> {
  const named: Array<[string, Tensor]> = [
    ...leaves(c.trainable, "params"),
    ...leaves(c.optState, "opt"),
  ];
  const tensors: Array<[string, { shape: number[]; data: Float32Array }]> = [];
  for (const [name, t] of named) tensors.push([name, { shape: [...t.shape], data: await read(t) }]);
  const index: Record<string, [number, number]> = {};
  let bytes = 0;
  for (const [name, a] of c.host) {
    index[name] = [bytes, a.length];
    bytes += a.byteLength;
  }
  const host = new Uint8Array(bytes);
  for (const [name, a] of c.host) {
    host.set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), (index[name] as [number, number])[0]);
  }

  const files: Array<[string, Uint8Array | string]> = [
    [STATE_FILE, encodeSafetensors(tensors)],
    [HOST_FILE, host],
    [META_FILE, JSON.stringify({ format: FORMAT, step: c.step, meta: c.meta, host: index }) + "\n"],
  ];
  await buildFolderAtomic(path.join(outDir, CHECKPOINT_DIR), (tmp) => writeFilesFlushed(tmp, files), { mode: "replace" });
}

/** The folder holding the latest complete checkpoint of OUT, or undefined when there is none. */
export function checkpointDir(outDir: string): string | undefined {
  for (const d of [CHECKPOINT_DIR, OLD_DIR]) {
    const dir = path.join(outDir, d);
    if (fs.existsSync(path.join(dir, META_FILE))) return dir;
  }
  return undefined;
}

/**
 * Read OUT's checkpoint into the shapes of `template` (fresh trainable params and optimizer state
 * of the same run, e.g. `optimizer.init(trainable)`), which it consumes. A checkpoint of another
 * model or optimizer (a missing tensor, another shape) is a UserError.
 */
export async function loadCheckpoint<M>(
  outDir: string,
  template: { trainable: Params; optState: OptState },
): Promise<Checkpoint<M>> {
  const dir = checkpointDir(outDir);
  if (dir === undefined) throw new UserError(`${outDir} has no checkpoint to resume (no ${CHECKPOINT_DIR}/${META_FILE})`);
  const meta = JSON.parse(fs.readFileSync(path.join(dir, META_FILE), "utf8")) as {
    format: string;
    step: number;
    meta: M;
    host: Record<string, [number, number]>;
  };
  if (meta.format !== FORMAT) throw new UserError(`${dir} is not a lorascope checkpoint (format ${String(meta.format)})`);
  const { tensors } = await readSafetensors(path.join(dir, STATE_FILE));
  const take = (name: string, t: Tensor): Tensor => {
    const saved = tensors.get(name);
    const shape = [...t.shape];
    t.dispose();
    if (saved === undefined || saved.dtype !== "F32" || saved.shape.join(",") !== shape.join(",")) {
      const was = saved === undefined ? "missing" : `[${saved.shape.join(", ")}]`;
      throw new UserError(`${dir} does not match this run: ${name} is ${was}, the run has [${shape.join(", ")}]`);
    }
    return tensor(saved.data, shape);
  };
  const trainable = replaceLeaves(template.trainable as JsTree<Tensor>, "params", take) as Params;
  const optState = replaceLeaves(template.optState, "opt", take);
  const raw = fs.readFileSync(path.join(dir, HOST_FILE));
  const host = new Map<string, Float64Array>();
  for (const [name, [offset, length]] of Object.entries(meta.host)) {
    // Copied out: the file's buffer need not be 8-byte aligned.
    host.set(name, new Float64Array(raw.buffer.slice(raw.byteOffset + offset, raw.byteOffset + offset + 8 * length)));
  }
  return { step: meta.step, trainable, optState, meta: meta.meta, host };
}

/** Remove OUT's checkpoint (a run that finished no longer needs it). */
export async function removeCheckpoint(outDir: string): Promise<void> {
  await rm(path.join(outDir, CHECKPOINT_DIR), { recursive: true, force: true });
  await rm(path.join(outDir, OLD_DIR), { recursive: true, force: true });
}
