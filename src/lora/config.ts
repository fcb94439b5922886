// LoRA configuration with PEFT's field names (PEFT src/peft/tuners/lora/config.py, `LoraConfig`).
// Validated once at the boundary; every message names the field and what is allowed.
import { UserError } from "../core/errors.ts";

/**
 * Adapter initialization schemes. Which factor is zero is stated by tests (test/lora-init.test.ts),
 * not by this comment; the math of each lives in lora/init.ts.
 * - `init-a`      PEFT default (`init_lora_weights=True`), the paper's Init[A]
 * - `init-b`      the paper's Init[B] (PEFT has no switch for it on Linear layers)
 * - `gaussian`    PEFT `"gaussian"`
 * - `gaussian-b`  the mirror of `gaussian` (random B, zero A)
 * - `orthogonal`  PEFT `"orthogonal"` (needs even r)
 * - `none`        PEFT `False`: both factors random, the adapter changes the model at step 0
 * - `pissa`       PEFT `"pissa"`: factors from the SVD of W*, which is rewritten
 */
export const INIT_SCHEMES = ["init-a", "init-b", "gaussian", "gaussian-b", "orthogonal", "none", "pissa"] as const;
export type InitScheme = (typeof INIT_SCHEMES)[number];

export interface LoraConfig {
  readonly r: number;
  readonly lora_alpha: number;
  readonly lora_dropout: number;
  /** A list matches a module path exactly or as a dotted suffix; a string is a full-match regex. */
  readonly target_modules: readonly string[] | string;
  readonly use_rslora: boolean;
  readonly init_lora_weights: InitScheme;
  /**
   * Standard deviation of the random factor, overriding the scheme's default (for width-scaling
   * studies). Uniform schemes keep their shape: U(−√3·std, √3·std).
   */
  readonly init_std?: number;
  /** Modules trained in full and saved with the adapter (e.g. a new classification head). */
  readonly modules_to_save: readonly string[];
  readonly bias: "none";
}

export const LORA_DEFAULTS: LoraConfig = {
  r: 8,
  lora_alpha: 8,
  lora_dropout: 0,
  target_modules: [],
  use_rslora: false,
  init_lora_weights: "init-a",
  modules_to_save: [],
  bias: "none",
};

/** Fill defaults and validate; throws a UserError naming the first bad field. */
export function loraConfig(partial: Partial<LoraConfig> & Pick<LoraConfig, "target_modules">): LoraConfig {
  const c: LoraConfig = { ...LORA_DEFAULTS, ...partial };
  if (typeof c.r !== "number" || !Number.isInteger(c.r) || c.r <= 0) {
    throw new UserError(`r must be a positive integer, got ${String(c.r)}`);
  }
  if (typeof c.lora_alpha !== "number" || !Number.isFinite(c.lora_alpha) || c.lora_alpha <= 0) {
    throw new UserError(`lora_alpha must be a positive number, got ${String(c.lora_alpha)}`);
  }
  if (typeof c.lora_dropout !== "number" || !(c.lora_dropout >= 0 && c.lora_dropout < 1)) {
    throw new UserError(`lora_dropout must be in [0, 1), got ${String(c.lora_dropout)}`);
  }
  if (!(INIT_SCHEMES as readonly string[]).includes(c.init_lora_weights)) {
    throw new UserError(
      `init_lora_weights "${String(c.init_lora_weights)}" is not a known scheme; use one of ${INIT_SCHEMES.join(", ")}`,
    );
  }
  if (c.init_lora_weights === "orthogonal" && c.r % 2 !== 0) {
    throw new UserError(`init_lora_weights "orthogonal" needs an even r, got r = ${c.r}`);
  }
  if (c.init_std !== undefined && !(Number.isFinite(c.init_std) && c.init_std > 0)) {
    throw new UserError(`init_std must be a positive number, got ${String(c.init_std)}`);
  }
  if (c.init_std !== undefined && c.init_lora_weights === "pissa") {
    throw new UserError('init_std cannot be used with init_lora_weights "pissa", which has no random factor');
  }
  if (typeof c.target_modules === "string") {
    try {
      new RegExp(`^(?:${c.target_modules})$`);
    } catch {
      throw new UserError(`target_modules "${c.target_modules}" is not a valid regular expression`);
    }
  } else if (!Array.isArray(c.target_modules) || c.target_modules.some((m) => typeof m !== "string")) {
    throw new UserError("target_modules must be a list of module names or a regular expression string");
  }
  if (c.bias !== "none") throw new UserError(`bias must be "none" (the only supported value), got "${String(c.bias)}"`);
  return c;
}

/** The factor s in `W* + s·B·A`: lora_alpha / r, or lora_alpha / √r with rsLoRA. */
export function scaling(c: Pick<LoraConfig, "r" | "lora_alpha" | "use_rslora">): number {
  return c.use_rslora ? c.lora_alpha / Math.sqrt(c.r) : c.lora_alpha / c.r;
}

/**
 * Does `target_modules` select the module at `path`? A list entry matches the whole path or a
 * dotted suffix of it (PEFT: `key == t or key.endswith("." + t)`); a string must match the whole
 * path as a regular expression (PEFT: `re.fullmatch`).
 */
export function matchesTarget(target: LoraConfig["target_modules"], path: string): boolean {
  if (typeof target === "string") return new RegExp(`^(?:${target})$`).test(path);
  return target.some((t) => path === t || path.endsWith(`.${t}`));
}
