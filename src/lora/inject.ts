// Injection: add lora_A/lora_B to every module selected by `target_modules` and split trainable from
// frozen (PEFT `inject_adapter` + `mark_only_lora_as_trainable`, src/peft/tuners/tuners_utils.py).
// Each module's factors come from its own key, fold(key, modulePath), so adding or removing a target
// never changes the numbers of the others. The base model's key is separate (the caller's
// fold(root, "base")), so Init[A] and Init[B] runs share the same base model.
import { UserError } from "../core/errors.ts";
import * as prng from "../core/prng.ts";
import type { Key } from "../core/prng.ts";
import { flatten, getPath, isTensor, modulePaths, partition, setPath, type Params } from "../core/tree.ts";
import { read, tensor, type Tensor } from "../engine/index.ts";
import { matchesTarget, scaling, type LoraConfig } from "./config.ts";
import { initLoraFactors } from "./init.ts";
import { isLoraPath } from "./merge.ts";

export interface Injected {
  /** The model with lora_A/lora_B added (and, for pissa, the rewritten base weights). */
  params: Params;
  /** Is the leaf at this path trained? LoRA factors and `modules_to_save` leaves; all else frozen. */
  trainable: (path: string) => boolean;
  /** Leaf paths for which `trainable` holds, in tree order. */
  trainablePaths: string[];
  /** Module paths that received an adapter. */
  targets: string[];
  /** Things the user should know (e.g. `none` changes the model at step 0). */
  warnings: string[];
}

function moduleAt(params: Params, path: string): Params {
  const m = path === "" ? params : getPath(params, path);
  if (m === undefined || isTensor(m)) throw new Error(`no module at "${path}"`);
  return m;
}

/**
 * Add adapters to `params` as `config` says. Consumes `params`. Async because pissa reads W* to the
 * host for its SVD.
 */
export async function injectLora(key: Key, params: Params, config: LoraConfig): Promise<Injected> {
  const existing = modulePaths(params).filter((p) => !/(^|\.)lora_[AB]$/.test(p));
  if (flatten(params).some(([p]) => isLoraPath(p))) {
    throw new UserError("the model already has LoRA factors; merge or remove them before injecting again");
  }
  const targets = existing.filter((p) => matchesTarget(config.target_modules, p));
  if (targets.length === 0) {
    const wanted =
      typeof config.target_modules === "string"
        ? `/${config.target_modules}/`
        : `[${config.target_modules.join(", ")}]`;
    throw new UserError(`target_modules ${wanted} matched no module; the model's modules are: ${existing.join(", ")}`);
  }
  const saved = existing.filter((p) => config.modules_to_save.length > 0 && matchesTarget(config.modules_to_save, p));
  for (const m of config.modules_to_save) {
    if (!existing.some((p) => matchesTarget([m], p))) {
      throw new UserError(
        `modules_to_save entry "${m}" matched no module; the model's modules are: ${existing.join(", ")}`,
      );
    }
  }
  const both = targets.filter((t) => saved.includes(t));
  if (both.length > 0) {
    throw new UserError(
      `modules ${both.join(", ")} are in both target_modules and modules_to_save; pick one for each module`,
    );
  }

  const s = scaling(config);
  let out = params;
  for (const path of targets) {
    const weight = moduleAt(out, path)["weight"] as Tensor;
    if (weight.ndim !== 2) {
      throw new UserError(
        `target_modules matched "${path}", whose weight has shape [${weight.shape.join(", ")}]; only linear layers (2-D weights) take LoRA`,
      );
    }
    const [nOut, nIn] = weight.shape as [number, number];
    const opts = {
      ...(config.init_std !== undefined ? { std: config.init_std } : {}),
      ...(config.init_lora_weights === "pissa" ? { weight: await read(weight), scaling: s } : {}),
    };
    const f = initLoraFactors(
      prng.fold(key, path),
      config.init_lora_weights,
      { inFeatures: nIn, outFeatures: nOut, r: config.r },
      opts,
    );
    const prefix = path === "" ? "" : `${path}.`;
    out = setPath(out, `${prefix}lora_A`, { weight: tensor(f.A, [config.r, nIn]) });
    out = setPath(out, `${prefix}lora_B`, { weight: tensor(f.B, [nOut, config.r]) });
    if (f.weight !== undefined) {
      weight.dispose();
      out = setPath(out, `${prefix}weight`, tensor(f.weight, [nOut, nIn]));
    }
  }

  const savedPrefixes = saved.map((p) => (p === "" ? "" : `${p}.`));
  const trainable = (path: string): boolean => isLoraPath(path) || savedPrefixes.some((pre) => path.startsWith(pre));
  const warnings: string[] = [];
  if (config.init_lora_weights === "none") {
    warnings.push(
      'init_lora_weights "none" leaves both factors random, so B·A ≠ 0 and the adapter changes the model\'s output at step 0 (PEFT init_lora_weights=False, meant for debugging)',
    );
  }
  return { params: out, trainable, trainablePaths: flatten(out).map(([p]) => p).filter(trainable), targets, warnings };
}

/**
 * Split a tree into [trainable, frozen] parts (freezing is a split of the tree, not a flag on each
 * parameter). Moves the tensors.
 */
export function splitTrainable(
  params: Params,
  trainable: (path: string) => boolean,
): { trainable: Params; frozen: Params } {
  const [t, f] = partition(params, trainable);
  return { trainable: t, frozen: f };
}
