// adapter_config.json ⇄ LoraConfig. Field names and defaults are PEFT's LoraConfig
// (huggingface/peft@5d602fd src/peft/tuners/lora/config.py; PeftConfig fields in src/peft/config.py).
// PEFT writes the config with `json.dumps(indent=2, sort_keys=True)` and, when loading, drops keys
// its LoraConfig does not know with a warning (peft src/peft/config.py `from_peft_type`, stored
// version fd21ef8), so lorascope's extra `"lorascope"` field is harmless to PEFT.
import { UserError } from "../core/errors.ts";
import { INIT_SCHEMES, loraConfig, type InitScheme, type LoraConfig } from "../lora/config.ts";

/**
 * What PEFT's `init_lora_weights` receives for each lorascope scheme. PEFT accepts only its own
 * values, and has no Init[B] on Linear layers; `true` is harmless for the B-random schemes because
 * PEFT overwrites both factors with the saved weights when loading. The exact scheme travels in the
 * `"lorascope"` field so lorascope restores it.
 */
const PEFT_INIT: Record<InitScheme, boolean | string> = {
  "init-a": true,
  "init-b": true,
  gaussian: "gaussian",
  "gaussian-b": true,
  orthogonal: "orthogonal",
  none: false,
  pissa: "pissa",
};

/** Extra facts about an adapter that are not part of LoraConfig. */
export interface AdapterMeta {
  readonly base_model_name_or_path?: string;
  readonly task_type?: string;
  /**
   * The base layers store weights [in, out] (GPT-2's Conv1D). Only the base weight is transposed by
   * PEFT; lora_A [r, in] and lora_B [out, r] are as for a Linear layer.
   */
  readonly fan_in_fan_out?: boolean;
}

/** The adapter_config.json object for `config`, with PEFT's defaults for every other field. */
export function peftConfigJson(config: LoraConfig, meta: AdapterMeta = {}): Record<string, unknown> {
  const lorascope: Record<string, unknown> = { init: config.init_lora_weights };
  if (config.init_std !== undefined) lorascope["init_std"] = config.init_std;
  const json: Record<string, unknown> = {
    alpha_pattern: {},
    auto_mapping: null,
    base_model_name_or_path: meta.base_model_name_or_path ?? null,
    bias: config.bias,
    exclude_modules: null,
    fan_in_fan_out: meta.fan_in_fan_out ?? false,
    inference_mode: true,
    init_lora_weights: PEFT_INIT[config.init_lora_weights],
    layer_replication: null,
    layers_pattern: null,
    layers_to_transform: null,
    loftq_config: {},
    lora_alpha: config.lora_alpha,
    lora_bias: false,
    lora_dropout: config.lora_dropout,
    lorascope,
    megatron_config: null,
    megatron_core: "megatron.core",
    modules_to_save: config.modules_to_save.length === 0 ? null : [...config.modules_to_save],
    peft_type: "LORA",
    r: config.r,
    rank_pattern: {},
    revision: null,
    target_modules: typeof config.target_modules === "string" ? config.target_modules : [...config.target_modules],
    task_type: meta.task_type ?? null,
    use_dora: false,
    use_rslora: config.use_rslora,
  };
  return json;
}

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === "object" && x !== null && !Array.isArray(x);
}

/**
 * PEFT's `init_lora_weights` → a lorascope scheme. Data-driven PEFT inits that lorascope cannot
 * reproduce (eva, olora, corda, loftq, lora_ga, mica) map to `none`, i.e. PEFT's `False`: "do not
 * initialize, the factors come from elsewhere" — here, from the file.
 */
function schemeFromPeft(value: unknown, file: string): InitScheme {
  if (value === undefined || value === null || value === true) return "init-a";
  if (value === false) return "none";
  if (typeof value !== "string") {
    throw new UserError(`${file}: init_lora_weights must be true, false or a string, got ${JSON.stringify(value)}`);
  }
  if (value === "gaussian" || value === "orthogonal") return value;
  if (value === "pissa" || value.startsWith("pissa_niter_")) return "pissa";
  return "none";
}

/**
 * Parse an adapter_config.json object (written by lorascope or by PEFT) into a validated LoraConfig.
 * `modulePathsInFile` stands in for `target_modules` when the config leaves it null (PEFT's
 * per-architecture default, which lorascope cannot look up).
 */
export function parsePeftConfig(
  raw: unknown,
  file: string,
  modulePathsInFile: readonly string[],
): { config: LoraConfig; meta: AdapterMeta } {
  if (!isRecord(raw)) throw new UserError(`${file} must hold a JSON object`);
  if (raw["peft_type"] !== "LORA") {
    throw new UserError(
      `${file} has peft_type ${JSON.stringify(raw["peft_type"] ?? null)}; lorascope reads LoRA adapters ("peft_type": "LORA")`,
    );
  }
  if (raw["use_dora"] === true)
    throw new UserError(`${file} describes a DoRA adapter (use_dora), which lorascope does not read`);
  for (const field of ["rank_pattern", "alpha_pattern"] as const) {
    const v = raw[field];
    if (v !== undefined && v !== null && !(isRecord(v) && Object.keys(v).length === 0)) {
      throw new UserError(`${file} sets ${field}; lorascope supports one r and lora_alpha for all modules`);
    }
  }
  const partial: { -readonly [K in keyof LoraConfig]?: LoraConfig[K] } = {};
  const num = (k: "r" | "lora_alpha" | "lora_dropout"): void => {
    const v = raw[k];
    if (v === undefined || v === null) return;
    if (typeof v !== "number") throw new UserError(`${file}: ${k} must be a number, got ${JSON.stringify(v)}`);
    partial[k] = v;
  };
  num("r");
  num("lora_alpha");
  num("lora_dropout");
  const rslora = raw["use_rslora"];
  if (rslora !== undefined && rslora !== null) {
    if (typeof rslora !== "boolean") throw new UserError(`${file}: use_rslora must be true or false`);
    partial.use_rslora = rslora;
  }
  const tm = raw["target_modules"];
  let target: LoraConfig["target_modules"];
  if (tm === undefined || tm === null) target = [...modulePathsInFile];
  else if (typeof tm === "string") target = tm;
  else if (Array.isArray(tm) && tm.every((t) => typeof t === "string")) target = tm;
  else throw new UserError(`${file}: target_modules must be a list of module names or a regular expression string`);
  const mts = raw["modules_to_save"];
  if (mts !== undefined && mts !== null) {
    if (!Array.isArray(mts) || !mts.every((m) => typeof m === "string")) {
      throw new UserError(`${file}: modules_to_save must be null or a list of module names`);
    }
    partial.modules_to_save = mts;
  }
  if (raw["bias"] !== undefined && raw["bias"] !== null) partial.bias = raw["bias"] as "none";

  partial.init_lora_weights = schemeFromPeft(raw["init_lora_weights"], file);
  const extra = raw["lorascope"];
  if (isRecord(extra)) {
    const init = extra["init"];
    if (typeof init !== "string" || !(INIT_SCHEMES as readonly string[]).includes(init)) {
      throw new UserError(
        `${file}: lorascope.init must be one of ${INIT_SCHEMES.join(", ")}, got ${JSON.stringify(init)}`,
      );
    }
    partial.init_lora_weights = init as InitScheme;
    const std = extra["init_std"];
    if (std !== undefined) {
      if (typeof std !== "number") throw new UserError(`${file}: lorascope.init_std must be a number`);
      partial.init_std = std;
    }
  }
  let config: LoraConfig;
  try {
    config = loraConfig({ ...partial, target_modules: target });
  } catch (err) {
    if (err instanceof UserError) throw new UserError(`${file}: ${err.message}`);
    throw err;
  }
  const meta: { -readonly [K in keyof AdapterMeta]?: AdapterMeta[K] } = {};
  if (typeof raw["base_model_name_or_path"] === "string") meta.base_model_name_or_path = raw["base_model_name_or_path"];
  if (typeof raw["task_type"] === "string") meta.task_type = raw["task_type"];
  if (raw["fan_in_fan_out"] === true) meta.fan_in_fan_out = true;
  return { config, meta };
}
