// The language-model part of `npm run torture`'s bad-input table: `finetune`, `evaluate`, `generate`,
// `merge` and `convert` with a causal LM, each given one thing wrong. The bad files are made in the
// torture's temporary folder from the bundled stories260K (converted in memory, then copied and
// damaged one way each), so the whole set is built in well under a second.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { FlagSpec, FlagTable } from "../src/cli/flag-table.ts";
import { LM_EVALUATE_FLAGS, LM_FINETUNE_FLAGS } from "../src/cli/lm-flags.ts";
import { GENERATE_FLAGS } from "../src/cli/commands/generate.ts";
import { MERGE_FLAGS } from "../src/cli/commands/merge.ts";
import { PRETRAIN_FLAGS } from "../src/cli/commands/pretrain.ts";
import { LM_STUDY_FLAGS } from "../src/cli/commands/reproduce-lm.ts";
import { hfFolderFiles } from "../src/io/convert-llama2c.ts";
import { loadStories260K, STORIES260K_DIR } from "../src/io/stories260k.ts";
import { encodeSafetensors, decodeSafetensors } from "../src/io/safetensors.ts";

export interface LmCase {
  readonly command: string;
  readonly argv: readonly string[];
  readonly expect: RegExp;
  readonly out?: string;
}

export type LmFixtures = Record<string, string>;

const Q = "model.layers.0.self_attn.q_proj";

/** stories260K as a Hugging Face folder and its damaged copies, data files and adapters, under `dir`. */
export function makeLmFixtures(dir: string): LmFixtures {
  mkdirSync(dir, { recursive: true });
  const f: LmFixtures = {};
  const files = hfFolderFiles(loadStories260K());
  const folder = (name: string, change: (m: Map<string, Uint8Array | string>) => void): void => {
    const m = new Map(files);
    change(m);
    const d = path.join(dir, name);
    mkdirSync(d, { recursive: true });
    for (const [file, data] of m) writeFileSync(path.join(d, file), data);
    f[name] = d;
  };
  const config = JSON.parse(files.get("config.json") as string) as Record<string, unknown>;
  const weights = decodeSafetensors(files.get("model.safetensors") as Uint8Array, "model.safetensors").tensors;
  /** The weights with `name` left out (`shape` undefined) or replaced by zeros of `shape`. */
  const reweigh = (name: string, shape?: number[]): Uint8Array =>
    encodeSafetensors(
      [...weights].flatMap(([n, t]) => {
        if (n !== name) return [[n, { shape: [...t.shape], data: t.data as Float32Array }] as const];
        if (shape === undefined) return [];
        return [[n, { shape, data: new Float32Array(shape.reduce((a, d) => a * d, 1)) }] as const];
      }),
    );
  folder("hf-ok", () => undefined);
  folder("hf-mistral", (m) => m.set("config.json", JSON.stringify({ ...config, model_type: "mistral", architectures: ["MistralForCausalLM"] })));
  folder("hf-config-list", (m) => m.set("config.json", "[1, 2]"));
  folder("hf-missing-tensor", (m) => m.set("model.safetensors", reweigh(`${Q}.weight`)));
  folder("hf-bad-shape", (m) => m.set("model.safetensors", reweigh(`${Q}.weight`, [32, 64])));
  folder("hf-no-weights", (m) => m.delete("model.safetensors"));
  folder("hf-truncated-weights", (m) => {
    const w = files.get("model.safetensors") as Uint8Array;
    m.set("model.safetensors", w.subarray(0, w.length - 1000));
  });
  folder("hf-no-tokenizer", (m) => {
    m.delete("tokenizer.json");
    m.delete("tokenizer_config.json");
  });

  // Data: good text, and the ways a data file can hold nothing to train on.
  const data = (name: string, text: string): void => {
    writeFileSync(path.join(dir, name), text);
    f[name] = path.join(dir, name);
  };
  data("text.txt", "Once upon a time, there was a little girl named Lily. She loved to play outside.\n".repeat(8));
  data("ids.jsonl", `${JSON.stringify({ input_ids: [1, 403, 407, 261, 378, 30, 404, 307, 263, 400] })}\n`.repeat(4));
  data("empty.txt", "");
  data("blank.txt", " \n\n  \n");
  data("empty.jsonl", "");
  data("one-token.jsonl", `${JSON.stringify({ input_ids: [5] })}\n${JSON.stringify({ input_ids: [7] })}\n`);
  data("bad-id.jsonl", `${JSON.stringify({ input_ids: [1, 99999] })}\n`);
  data("notes.csv", "a,b\n");

  // Adapters: one that fits stories260K, one for a module it lacks, one of other shapes.
  const adapter = (name: string, modules: ReadonlyArray<[string, number]>): void => {
    const d = path.join(dir, name);
    mkdirSync(d, { recursive: true });
    const r = 4;
    writeFileSync(
      path.join(d, "adapter_config.json"),
      JSON.stringify({ r, lora_alpha: 8, target_modules: modules.map(([m]) => m.split(".").at(-1)), peft_type: "LORA", task_type: "CAUSAL_LM" }),
    );
    const tensors = modules.flatMap(([m, width]) => [
      [`base_model.model.${m}.lora_A.weight`, { shape: [r, width], data: new Float32Array(r * width).fill(0.01) }] as const,
      [`base_model.model.${m}.lora_B.weight`, { shape: [width, r], data: new Float32Array(width * r).fill(0.01) }] as const,
    ]);
    writeFileSync(path.join(d, "adapter_model.safetensors"), encodeSafetensors(tensors));
    f[name] = d;
  };
  adapter("lm-adapter-ok", [[Q, 64]]);
  adapter("lm-adapter-gpt2", [["transformer.h.0.attn.c_attn", 64]]);
  adapter("lm-adapter-shape", [[Q, 128]]);

  // llama2.c files cut short.
  const ckpt = readFileSync(path.join(STORIES260K_DIR, "stories260K.bin"));
  data("cut.bin", "");
  writeFileSync(f["cut.bin"] as string, ckpt.subarray(0, ckpt.length - 4096));
  data("header-only.bin", "");
  writeFileSync(f["header-only.bin"] as string, ckpt.subarray(0, 28));
  data("tiny.bin", "");
  writeFileSync(f["tiny.bin"] as string, ckpt.subarray(0, 10));
  const tok = readFileSync(path.join(STORIES260K_DIR, "tok512.bin"));
  data("tok-cut.bin", "");
  writeFileSync(f["tok-cut.bin"] as string, tok.subarray(0, tok.length - 100));
  // A folder that is not empty and a file, for --out.
  mkdirSync(path.join(dir, "full"), { recursive: true });
  writeFileSync(path.join(dir, "full", "model.safetensors"), "x");
  f["full"] = path.join(dir, "full");
  data("a-file", "x");
  return f;
}

/** Flags every run of an LM form needs, so that the case's own flag is the only thing wrong. */
export function lmBaseArgs(command: string, fx: LmFixtures, out: string): string[] {
  switch (command) {
    case "finetune":
      return ["--model", "stories260K", "--data", fx["text.txt"] as string, "--lr", "1e-3", "--steps", "1", "--seq-len", "16", "--out", out];
    case "evaluate":
      return ["--model", "stories260K", "--data", fx["text.txt"] as string, "--seq-len", "16", "--limit", "2"];
    case "generate":
      return ["--model", "stories260K", "--max-new-tokens", "4"];
    case "pretrain":
      return ["--data", fx["text.txt"] as string, "--valid", fx["text.txt"] as string, "--width", "32", "--head-dim", "16", "--steps", "1", "--seq-len", "16", "--out", out];
    case "reproduce":
      return ["--study", "lm", "--quick", "--out", out];
    case "merge":
      return ["--model", "stories260K", "--adapter", fx["lm-adapter-ok"] as string, "--out", out];
    default:
      return [];
  }
}

/** The LM forms' flag tables, for the generated out-of-range and wrong-kind values. */
export const LM_TABLES: ReadonlyArray<[string, FlagTable]> = [
  ["finetune", LM_FINETUNE_FLAGS],
  ["evaluate", LM_EVALUATE_FLAGS],
  ["generate", GENERATE_FLAGS],
  ["merge", MERGE_FLAGS],
  ["pretrain", PRETRAIN_FLAGS],
  ["reproduce", LM_STUDY_FLAGS],
];

/** Generated cases for the LM tables; `badValues` is the torture's own list of bad values per flag kind. */
export function lmGenerated(
  fx: LmFixtures,
  freshOut: () => string,
  badValues: (name: string, spec: FlagSpec) => Array<[string, RegExp]>,
): LmCase[] {
  const cases: LmCase[] = [];
  for (const [command, table] of LM_TABLES) {
    for (const [name, spec] of Object.entries(table)) {
      // --config and --out have their own cases; --model decides the form, so a bad one is hand-written.
      // --study decides the reproduce form: the toy table's own cases cover its bad values.
      if (name === "config" || name === "out" || name === "model" || (command === "reproduce" && name === "study")) continue;
      for (const [value, expect] of badValues(name, spec)) {
        const out = freshOut();
        const base = lmBaseArgs(command, fx, out).filter((_a, i, all) => all[i] !== `--${name}` && all[i - 1] !== `--${name}`);
        cases.push({ command, argv: [command, ...base, `--${name}=${value}`], expect, out });
      }
      const out = freshOut();
      cases.push({
        command,
        argv: [command, ...lmBaseArgs(command, fx, out), `--${name}`, "x", `--${name}`, "y"],
        expect: /given more than once|takes no value|must be|is not known|was given/,
        out,
      });
    }
    const out = freshOut();
    cases.push({ command, argv: [command, ...lmBaseArgs(command, fx, out), "--no-such-flag"], expect: /unknown flag --no-such-flag/, out });
  }
  return cases;
}

/** Hand-written LM cases: damaged models, data, adapters, sampling settings and output folders. */
export function lmHandWritten(
  fx: LmFixtures,
  freshOut: () => string,
  badOuts: ReadonlyArray<[string, RegExp]>,
): LmCase[] {
  const c: LmCase[] = [];
  const add = (argv: string[], expect: RegExp, out?: string): void => {
    c.push({ command: argv[0] as string, argv, expect, ...(out === undefined ? {} : { out }) });
  };
  const fx_ = (k: string): string => fx[k] as string;
  const models: Array<[string, RegExp]> = [
    [fx_("hf-mistral"), /model_type "mistral", which lorascope does not implement; supported: "llama", "gpt2"/],
    [fx_("hf-config-list"), /config\.json is not a JSON object/],
    [fx_("hf-missing-tensor"), /does not match its llama config\.json \(missing model\.layers\.0\.self_attn\.q_proj\.weight\)/],
    [fx_("hf-bad-shape"), /q_proj\.weight.*\[32, 64\]|does not match its llama config\.json/],
    [fx_("hf-no-weights"), /has neither model\.safetensors nor/],
    [fx_("hf-truncated-weights"), /safetensors|truncated|ended/],
    [path.join(path.dirname(fx_("hf-ok")), "no-such-model"), /is neither .*stories260K.* nor an existing/],
    [fx_("a-file"), /is a file/],
  ];
  for (const [model, re] of models) {
    const o = freshOut();
    add(["finetune", "--model", model, "--data", fx_("ids.jsonl"), "--lr", "1e-3", "--steps", "1", "--seq-len", "8", "--out", o], re, o);
    add(["evaluate", "--model", model, "--data", fx_("ids.jsonl"), "--seq-len", "8"], re);
    add(["generate", "--model", model, "--max-new-tokens", "2"], re);
    const m = freshOut();
    add(["merge", "--model", model, "--adapter", fx_("lm-adapter-ok"), "--out", m], re, m);
  }
  // pretrain and the LM study: settings that cannot make a model, and text too small for one batch.
  const p = (...a: string[]): string[] => {
    const base = ["--data", fx_("text.txt"), "--valid", fx_("text.txt"), "--steps", "1", "--out", freshOut()];
    return ["pretrain", ...base, ...(a.includes("--seq-len") ? [] : ["--seq-len", "16"]), ...a];
  };
  add(p("--width", "48", "--head-dim", "32"), /--width 48 is not a multiple of --head-dim 32/);
  add(p("--width", "30", "--head-dim", "15"), /--head-dim must be even/);
  add(p("--width", "4096", "--layers", "64", "--batch", "1024", "--seq-len", "4096"), /GiB of engine memory/);
  add(p("--width", "32", "--head-dim", "16", "--batch", "1024"), /fewer than one batch of 1024/);
  add(["pretrain", "--data", fx_("text.txt"), "--out", freshOut()], /needs held-out text too: give --valid FILE/);
  add(["pretrain", "--resume", fx_("full")], /has no pretrain-config\.json; --resume needs the --out folder of a pretrain/);
  add(["reproduce", "--study", "lm", "--quick", "--widths", "48", "--head-dim", "32", "--out", freshOut()], /--width 48 is not a multiple of --head-dim 32/);
  add(["reproduce", "--study", "lm", "--quick", "--widths", "8", "--rank", "16", "--head-dim", "8", "--out", freshOut()], /--rank 16 is more than the width 8/);
  add(["reproduce", "--study", "lm", "--quick", "--lrs", "1e-3,1e-3", "--out", freshOut()], /--lrs lists 0\.001 more than once/);
  // Text without a tokenizer (pre-tokenized .jsonl works; see below that it is not refused).
  const noTok = /no tokenizer\.json|needs the model's tokenizer/;
  {
    const o = freshOut();
    add(["finetune", "--model", fx_("hf-no-tokenizer"), "--data", fx_("text.txt"), "--lr", "1e-3", "--steps", "1", "--seq-len", "8", "--out", o], noTok, o);
  }
  add(["evaluate", "--model", fx_("hf-no-tokenizer"), "--data", fx_("text.txt"), "--seq-len", "8"], noTok);
  add(["generate", "--model", fx_("hf-no-tokenizer"), "--max-new-tokens", "2"], /tokenizer/);
  // Data holding nothing to train on, or not data at all.
  for (const [file, re] of [
    ["empty.txt", /is empty/],
    ["blank.txt", /is empty/],
    ["empty.jsonl", /is empty/],
    ["one-token.jsonl", /gives no sequence of at least two tokens/],
    ["bad-id.jsonl", /token id 99999 .*outside the model's vocabulary/],
    ["notes.csv", /is neither a \.txt or \.jsonl file nor a built-in corpus/],
  ] as const) {
    const o = freshOut();
    add(["finetune", "--model", "stories260K", "--data", fx_(file), "--lr", "1e-3", "--steps", "1", "--seq-len", "8", "--out", o], re, o);
    add(["evaluate", "--model", "stories260K", "--data", fx_(file), "--seq-len", "8"], re);
  }
  {
    const o = freshOut();
    add(["finetune", "--model", "stories260K", "--data", fx_("text.txt"), "--valid", fx_("one-token.jsonl"), "--lr", "1e-3", "--steps", "1", "--seq-len", "8", "--out", o], /gives no sequence of at least two tokens/, o);
  }
  // --seq-len beyond the model's 512 positions.
  {
    const o = freshOut();
    add(["finetune", "--model", "stories260K", "--data", fx_("text.txt"), "--lr", "1e-3", "--seq-len", "1024", "--out", o], /--seq-len 1024 is more than stories260K's 512 positions/, o);
    const o2 = freshOut();
    add(["finetune", "--model", fx_("hf-ok"), "--data", fx_("text.txt"), "--lr", "1e-3", "--seq-len", "513", "--out", o2], /--seq-len 513 is more than .*512 positions/, o2);
  }
  add(["evaluate", "--model", "stories260K", "--data", fx_("text.txt"), "--seq-len", "4096"], /--seq-len 4096 is more than stories260K's 512 positions/);
  // An adapter made for another model: a module it lacks, factors of other shapes.
  for (const [adapter, re] of [
    ["lm-adapter-gpt2", /was not made for .*it adapts "transformer\.h\.0\.attn\.c_attn", which the model does not have|does not fit stories260K .*matched no module/],
    ["lm-adapter-shape", /was not made for .*make a \[128, 128\] update but the model's weight there is \[64, 64\]|does not fit/],
  ] as const) {
    add(["evaluate", "--model", "stories260K", "--adapter", fx_(adapter), "--data", fx_("ids.jsonl"), "--seq-len", "8"], re);
    add(["generate", "--model", "stories260K", "--adapter", fx_(adapter), "--max-new-tokens", "2"], re);
    const m = freshOut();
    add(["merge", "--model", "stories260K", "--adapter", fx_(adapter), "--out", m], re, m);
  }
  add(["generate", "--model", "stories260K", "--adapter", path.join(path.dirname(fx_("hf-ok")), "no-such-adapter")], /--adapter .* is not a folder/);
  add(["evaluate", "--model", "stories260K", "--adapter", fx_("hf-ok"), "--data", fx_("ids.jsonl")], /adapter_config\.json/);
  // Sampling settings out of range.
  const gen = (...a: string[]): string[] => ["generate", "--model", "stories260K", ...a];
  add(gen("--max-new-tokens", "0"), /--max-new-tokens must be at least 1/);
  add(gen("--max-new-tokens", "-5"), /--max-new-tokens must be at least 1/);
  add(gen("--max-new-tokens", "600"), /--max-new-tokens|positions/);
  add(gen("--max-new-tokens", "1e12"), /--max-new-tokens must be at most|positions/);
  add(gen("--prompt", "Once upon a time ".repeat(200), "--max-new-tokens", "10"), /positions/);
  add(gen("--temperature", "-1"), /--temperature must be at least 0/);
  add(gen("--temperature", "NaN"), /--temperature/);
  add(gen("--temperature", "1e400"), /--temperature/);
  add(gen("--top-p", "0"), /--top-p must be positive/);
  add(gen("--top-p", "1.5"), /--top-p must be at most 1/);
  add(gen("--top-p", "-0.1"), /--top-p must be positive/);
  add(gen("stray"), /no positional arguments/);
  // merge's --out: existing, a file, under a file, and the system and unwritable places every --out is refused.
  add(["merge", ...lmBaseArgs("merge", fx, fx_("full"))], /is not empty/);
  for (const [out, re] of badOuts) add(["merge", ...lmBaseArgs("merge", fx, out)], re);
  add(["merge", ...lmBaseArgs("merge", fx, "")], /--out is empty/);
  for (const [out, re] of badOuts) add(["finetune", ...lmBaseArgs("finetune", fx, out)], re);
  add(["merge", "--model", "stories260K", "--out", freshOut()], /--adapter is required/);
  // convert: llama2.c files cut short.
  const tok = path.join(STORIES260K_DIR, "tok512.bin");
  const ck = path.join(STORIES260K_DIR, "stories260K.bin");
  const cv = (a: string, b: string): string[] => {
    const o = freshOut();
    return ["convert", "llama2c", "--checkpoint", a, "--tokenizer", b, "--out", o];
  };
  add(cv(fx_("cut.bin"), tok), /cut\.bin is not a llama2\.c checkpoint: .*needs 1056540 bytes but the file has 1052444/);
  add(cv(fx_("header-only.bin"), tok), /header-only\.bin .*needs 1056540 bytes but the file has 28/);
  add(cv(fx_("tiny.bin"), tok), /tiny\.bin .*shorter than the 28-byte header/);
  add(cv(ck, fx_("tok-cut.bin")), /tok-cut\.bin/);
  return c;
}
