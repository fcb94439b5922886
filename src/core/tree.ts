// Parameter trees: nested plain objects whose leaves are tensors. A leaf's path is its dotted name,
// chosen to be PEFT's module name plus the parameter name (`layers.0.attn.q_proj.lora_A.weight`),
// so file keys and `target_modules` patterns read the same as in PyTorch.
import { np, type Tensor } from "../engine/index.ts";

export interface Params {
  [name: string]: Params | Tensor;
}

export function isTensor(x: unknown): x is Tensor {
  // np.Array's base, Tracer: leaves under grad/jit are tracers
  return x instanceof (Object.getPrototypeOf(np.Array) as typeof np.Array);
}

/** All leaves with their dotted paths, in insertion order. Borrows the tree. */
export function flatten(p: Params, prefix = ""): Array<[string, Tensor]> {
  const out: Array<[string, Tensor]> = [];
  for (const [k, v] of Object.entries(p)) {
    const path = prefix === "" ? k : `${prefix}.${k}`;
    if (isTensor(v)) out.push([path, v]);
    else out.push(...flatten(v, path));
  }
  return out;
}

/** Build a tree from dotted paths (the inverse of `flatten`). Consumes the tensors. */
export function unflatten(entries: Iterable<readonly [string, Tensor]>): Params {
  const root: Params = {};
  for (const [path, t] of entries) {
    const parts = path.split(".");
    let node = root;
    for (const part of parts.slice(0, -1)) {
      const nextNode = node[part];
      if (nextNode === undefined) {
        const fresh: Params = {};
        node[part] = fresh;
        node = fresh;
      } else if (isTensor(nextNode)) {
        throw new Error(`path ${path} passes through the tensor at ${part}`);
      } else node = nextNode;
    }
    node[parts[parts.length - 1] as string] = t;
  }
  return root;
}

/** The subtree or tensor at `path`, or undefined. Borrows. */
export function getPath(p: Params, path: string): Params | Tensor | undefined {
  if (path === "") return p;
  let node: Params | Tensor = p;
  for (const part of path.split(".")) {
    if (isTensor(node)) return undefined;
    const nextNode: Params | Tensor | undefined = node[part];
    if (nextNode === undefined) return undefined;
    node = nextNode;
  }
  return node;
}

/**
 * A new tree equal to `p` with the subtree at `path` replaced by `value` (created when missing).
 * Structural sharing: untouched subtrees are the same objects. The old value at `path` is returned
 * to the caller's ownership via `replaced`.
 */
export function setPath(p: Params, path: string, value: Params | Tensor): Params {
  const [head, ...rest] = path.split(".");
  if (head === undefined || head === "") throw new Error("setPath(): empty path");
  const current = p[head];
  if (rest.length === 0) return { ...p, [head]: value };
  if (current !== undefined && isTensor(current)) {
    throw new Error(`setPath(): ${head} is a tensor, cannot descend to ${rest.join(".")}`);
  }
  return { ...p, [head]: setPath(current ?? {}, rest.join("."), value) };
}

/**
 * Split a tree in two by a predicate on leaf paths: `[selected, rest]`. The union of the two is the
 * original tree; no tensor appears in both. Moves the tensors (no reference change).
 */
export function partition(p: Params, select: (path: string) => boolean): [Params, Params] {
  const yes: Array<[string, Tensor]> = [];
  const no: Array<[string, Tensor]> = [];
  for (const entry of flatten(p)) (select(entry[0]) ? yes : no).push(entry);
  return [unflatten(yes), unflatten(no)];
}

/** Merge disjoint trees into one (the inverse of `partition`). Throws on a shared leaf path. */
export function combine(...trees: Params[]): Params {
  const seen = new Set<string>();
  const all: Array<[string, Tensor]> = [];
  for (const t of trees) {
    for (const [path, v] of flatten(t)) {
      if (seen.has(path)) throw new Error(`combine(): both trees have a parameter at ${path}`);
      seen.add(path);
      all.push([path, v]);
    }
  }
  return unflatten(all);
}

/**
 * Paths of the modules of a tree: every subtree that directly holds a `weight` tensor (a linear
 * layer, an embedding, a norm). These are the names `target_modules` matches against.
 */
export function modulePaths(p: Params, prefix = ""): string[] {
  const out: string[] = [];
  if (isTensor(p["weight"])) out.push(prefix);
  for (const [k, v] of Object.entries(p)) {
    if (!isTensor(v)) out.push(...modulePaths(v, prefix === "" ? k : `${prefix}.${k}`));
  }
  return out;
}

/** Paths of the subtrees that have a child subtree called `name` (e.g. "lora_A": the LoRA modules). */
export function pathsWithChild(p: Params, name: string, prefix = ""): string[] {
  const out: string[] = [];
  const own = p[name];
  if (own !== undefined && !isTensor(own)) out.push(prefix);
  for (const [k, v] of Object.entries(p)) {
    if (k !== name && !isTensor(v)) out.push(...pathsWithChild(v, name, prefix === "" ? k : `${prefix}.${k}`));
  }
  return out;
}

/** Apply a function to every leaf, keeping the structure. */
export function mapTree(p: Params, f: (t: Tensor, path: string) => Tensor, prefix = ""): Params {
  const out: Params = {};
  for (const [k, v] of Object.entries(p)) {
    const path = prefix === "" ? k : `${prefix}.${k}`;
    out[k] = isTensor(v) ? f(v, path) : mapTree(v, f, path);
  }
  return out;
}
