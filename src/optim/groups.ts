// Parameter groups as a labelled multi-transform (optax.multi_transform): a labelling function
// names each parameter's group, each group has its own transform, and the updates of all groups
// are merged back into one tree. torch's param_groups (per-group lr, weight decay, betas, eps
// overriding the optimizer's defaults) are `paramGroups` on top of it.
//
// Clip the global norm *outside* the groups, `chain(clipByGlobalNorm(c), paramGroups(...))`:
// a clip inside a group's optimizer only sees that group's gradients.
import type { Tensor } from "../engine/index.ts";
import { UserError } from "../core/errors.ts";
import { combine, flatten, partition, type Params } from "../core/tree.ts";
import type { GradientTransformation, OptState } from "./transform.ts";

/** Names the group of a parameter from its dotted path and its tensor (for its shape). Borrows. */
export type Labeller = (path: string, param: Tensor) => string;

/** Paths of `params`, grouped by label, with a clear error for a label that has no transform. */
function labelPaths(params: Params, label: Labeller, groups: readonly string[]): Map<string, Set<string>> {
  const byGroup = new Map<string, Set<string>>(groups.map((g) => [g, new Set<string>()]));
  for (const [path, p] of flatten(params)) {
    const g = label(path, p);
    const set = byGroup.get(g);
    if (set === undefined) {
      throw new UserError(
        `parameter ${path} was labelled "${g}", which is not a group; the groups are ${groups.join(", ")}`,
      );
    }
    set.add(path);
  }
  return byGroup;
}

/** Split a tree by the labelled paths (moves tensors; no reference change). */
function split(tree: Params, paths: Map<string, Set<string>>): Map<string, Params> {
  const out = new Map<string, Params>();
  let rest = tree;
  for (const [g, set] of paths) {
    const [mine, others] = partition(rest, (p) => set.has(p));
    out.set(g, mine);
    rest = others;
  }
  const left = flatten(rest)[0];
  if (left !== undefined) throw new Error(`tree mismatch: ${left[0]} is not a parameter`);
  return out;
}

/**
 * One transform per group, chosen by `label`. The state is `{ [group]: state }`. Labels are
 * recomputed from `params` on every update (cheap, host-side, and identical inside `jit`).
 * Ownership as every transform: consumes grads and state, borrows params and step.
 */
export function multiTransform(
  transforms: Readonly<Record<string, GradientTransformation>>,
  label: Labeller,
): GradientTransformation<Record<string, OptState>> {
  const groups = Object.keys(transforms);
  return {
    init(params) {
      const parts = split(params, labelPaths(params, label, groups));
      const state: Record<string, OptState> = {};
      for (const g of groups) state[g] = (transforms[g] as GradientTransformation).init(parts.get(g) ?? {});
      return state;
    },
    update(grads, state, params, step) {
      const paths = labelPaths(params, label, groups);
      const gradParts = split(grads, paths);
      const paramParts = split(params, paths);
      const updates: Params[] = [];
      const next: Record<string, OptState> = {};
      for (const g of groups) {
        const s = state[g];
        if (s === undefined) throw new Error(`multiTransform: the state has no entry for group ${g}`);
        const [u, s2] = (transforms[g] as GradientTransformation).update(
          gradParts.get(g) ?? {},
          s,
          paramParts.get(g) ?? {},
          step,
        );
        updates.push(u);
        next[g] = s2;
      }
      return [combine(...updates), next];
    },
  };
}

/**
 * torch-style parameter groups: `optimizer` is built once per group from `defaults` overridden by
 * that group's hyper-parameters, e.g.
 *   paramGroups({ optimizer: adamw, defaults: { lr: 1e-3 }, groups: { head: { lr: 1e-2 }, body: {} }, label })
 */
export function paramGroups<H extends object>(o: {
  optimizer: (hyper: H) => GradientTransformation;
  defaults: H;
  groups: Readonly<Record<string, Partial<H>>>;
  label: Labeller;
}): GradientTransformation<Record<string, OptState>> {
  const transforms: Record<string, GradientTransformation> = {};
  for (const [name, hyper] of Object.entries(o.groups)) transforms[name] = o.optimizer({ ...o.defaults, ...hyper });
  return multiTransform(transforms, o.label);
}
