// `npm run torture`: lorascope used as a hostile user would. Part 1 runs a table of bad inputs
// (hand-written cases plus, for every number, list and choice flag of every command, values out of
// range, of the wrong kind, repeated or empty) and checks each: a non-zero exit, exactly one line on
// stderr naming the problem, no stack trace, no "internal error", nothing left in the output folder,
// and an answer within the time limit; the language-model commands' cases are in torture-lm.ts. The
// cases run the built CLI (bin/lorascope.js, built first), several at once. Part 2 kills
// `reproduce --quick` (and a tiny encoder `sweep`) with SIGKILL at random moments, resumes, and
// compares the final rows and summary with an uninterrupted run. Not part of `npm test`: about
// 9 CPU-minutes, 20 minutes of wall time on two cores that other work keeps busy (load 5–17).
//
//   node --import tsx scripts/torture.ts [--inputs-only | --kills-only] [--kills N] [--sweep-kills N]
//     [--parallel N] [--match REGEX (only the bad inputs whose command line matches)] [--no-build]
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { FlagSpec, FlagTable } from "../src/cli/flag-table.ts";
import { REPRODUCE_FLAGS } from "../src/cli/commands/reproduce.ts";
import { FINETUNE_FLAGS } from "../src/cli/commands/finetune.ts";
import { SWEEP_FLAGS } from "../src/cli/commands/sweep.ts";
import { EVALUATE_FLAGS } from "../src/cli/commands/evaluate.ts";
import { COORD_CHECK_FLAGS } from "../src/cli/commands/coord-check.ts";
import { CONVERT_FLAGS } from "../src/cli/commands/convert.ts";
import { encodeSafetensors } from "../src/io/safetensors.ts";
import { lmGenerated, lmHandWritten, makeLmFixtures } from "./torture-lm.ts";

const ROOT = path.resolve(import.meta.dirname, "..");
// The built CLI, as `npx lorascope` runs it: it starts in a fraction of the time the TypeScript
// sources take through tsx, which is most of a bad-input case's cost. main() builds it first.
const CLI = [path.join(ROOT, "bin/lorascope.js")];
const TMP = mkdtempSync(path.join(os.tmpdir(), "lorascope-torture-"));
const STORIES = path.join(ROOT, "assets/stories260K");

interface Run {
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

/** Run the CLI; `detached` puts it in its own process group (so a kill reaches its workers). */
function cli(
  args: readonly string[],
  opts: { timeoutMs?: number; killAfterMs?: number; cwd?: string } = {},
): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...CLI, ...args], {
      cwd: opts.cwd ?? TMP,
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, LORASCOPE_DEBUG: "" },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += String(d)));
    child.stderr.on("data", (d: Buffer) => (stderr += String(d)));
    let timedOut = false;
    const killGroup = () => {
      try {
        process.kill(-(child.pid as number), "SIGKILL");
      } catch {
        // already gone
      }
    };
    const timers = [
      setTimeout(() => {
        timedOut = true;
        killGroup();
      }, opts.timeoutMs ?? 60_000),
      ...(opts.killAfterMs === undefined ? [] : [setTimeout(killGroup, opts.killAfterMs)]),
    ];
    child.on("close", (code, signal) => {
      timers.forEach(clearTimeout);
      resolve({ code, signal, stdout, stderr, timedOut });
    });
  });
}

// ---------------------------------------------------------------- part 1: bad inputs

interface BadInput {
  readonly command: string;
  readonly argv: readonly string[];
  readonly expect: RegExp;
  /** The output folder the case names, checked to be absent or empty afterwards. */
  readonly out?: string;
}

let outCount = 0;
const freshOut = (): string => path.join(TMP, "outs", `o${++outCount}`);

/** Flags every run of a command needs, so that the case's own flag is the only thing wrong. */
function baseArgs(command: string, out: string): string[] {
  switch (command) {
    case "reproduce":
      return ["--quick", "--out", out];
    case "finetune":
      return ["--task", "spam", "--lr", "1e-3", "--out", out];
    case "sweep":
      return ["--task", "spam", "--out", out];
    case "evaluate":
      return ["--task", "spam", "--adapter", path.join(TMP, "fixtures", "adapter-ok")];
    case "convert":
      return ["llama2c", "--checkpoint", path.join(STORIES, "stories260K.bin"), "--tokenizer", path.join(STORIES, "tok512.bin"), "--out", out];
    default:
      return [];
  }
}

/** Bad values for one flag, each with the sentence it must get. */
function badValues(name: string, spec: FlagSpec): Array<[string, RegExp]> {
  const flag = new RegExp(`--${name}\\b`);
  const out: Array<[string, RegExp]> = [["", flag]];
  switch (spec.kind) {
    case "bool":
      return [["maybe", flag]];
    case "string":
      return spec.choices === undefined ? [] : [...out, ["no-such-choice", /is not known; use one of/]];
    case "int":
    case "number":
      out.push(["abc", flag], ["NaN", flag], ["Infinity", flag], ["1e400", flag]);
      if (spec.kind === "int") out.push(["1.5", /must be an integer/]);
      if (spec.max !== undefined) out.push([String(spec.max * 10 + 1), /must be at most/], ["1e300", /must be at most/]);
      if (spec.min !== undefined) out.push([String(spec.min - 1), /must be at least/]);
      if (spec.positive === true) out.push(["0", /must be positive/]);
      return out;
    case "list":
      out.push([",", flag]);
      if (spec.choices !== undefined) {
        out.push(["nope", /is not known/]);
        out.push([`${spec.choices[0]},${spec.choices[0]}`, /more than once/]);
      }
      return out;
    case "numlist":
    case "intlist": {
      out.push([",", flag], ["1,abc", flag]);
      const ok = spec.min !== undefined && spec.min > 0 ? Math.max(spec.min, 64) : 64;
      const okv = spec.kind === "numlist" ? 1e-3 : ok;
      out.push([`${okv},${okv}`, /more than once/]);
      if (spec.max !== undefined) out.push([String(spec.max * 10 + 1), /must be at most/]);
      if (spec.min !== undefined) out.push([String(spec.min - 1), /must be at least/]);
      if (spec.kind === "intlist") out.push(["64.5", /must be an integer/]);
      return out;
    }
    default:
      return out;
  }
}

/** Cases generated from the flag tables. */
function generated(): BadInput[] {
  const tables: Array<[string, FlagTable]> = [
    ["reproduce", REPRODUCE_FLAGS],
    ["finetune", FINETUNE_FLAGS],
    ["sweep", SWEEP_FLAGS],
    ["evaluate", EVALUATE_FLAGS],
    ["coord-check", COORD_CHECK_FLAGS],
    ["convert", CONVERT_FLAGS],
  ];
  const cases: BadInput[] = [];
  for (const [command, table] of tables) {
    for (const [name, spec] of Object.entries(table)) {
      if (name === "config" || name === "out") continue; // their own cases below
      for (const [value, expect] of badValues(name, spec)) {
        const out = freshOut();
        const base = baseArgs(command, out).filter((_a, i, all) => all[i] !== `--${name}` && all[i - 1] !== `--${name}`);
        cases.push({ command, argv: [command, ...base, `--${name}=${value}`], expect, out });
      }
      cases.push({ command, argv: [command, ...baseArgs(command, freshOut()), `--${name}`, "x", `--${name}`, "y"], expect: /given more than once|takes no value|must be|is not known|was given/ });
    }
    cases.push({ command, argv: [command, ...baseArgs(command, freshOut()), "--no-such-flag"], expect: /unknown flag --no-such-flag/ });
  }
  return cases;
}

/** Adapter folders and files that are wrong in one way each. */
function makeFixtures(): Record<string, string> {
  const dir = path.join(TMP, "fixtures");
  mkdirSync(dir, { recursive: true });
  const f: Record<string, string> = {};
  const cfg = { r: 4, lora_alpha: 8, target_modules: ["q"], peft_type: "LORA" };
  const A = { dtype: "F32" as const, shape: [4, 6], data: new Float32Array(24) };
  const B = { dtype: "F32" as const, shape: [6, 4], data: new Float32Array(24) };
  const adapter = (name: string, config: unknown, tensors: Array<[string, typeof A]> | Uint8Array | null): string => {
    const d = path.join(dir, name);
    mkdirSync(d, { recursive: true });
    if (config !== null) writeFileSync(path.join(d, "adapter_config.json"), typeof config === "string" ? config : JSON.stringify(config));
    if (tensors !== null) {
      writeFileSync(path.join(d, "adapter_model.safetensors"), tensors instanceof Uint8Array ? tensors : encodeSafetensors(tensors));
    }
    f[name] = d;
    return d;
  };
  const k = (s: string) => `base_model.model.${s}`;
  const good = encodeSafetensors([[k("q.lora_A.weight"), A], [k("q.lora_B.weight"), B]]);
  adapter("adapter-ok", cfg, good);
  writeFileSync(path.join(dir, "adapter-ok", "run.json"), JSON.stringify({ spec: { task: "spam", seed: 0, batch: 8, r: 8, loraAlpha: 8 } }));
  adapter("no-config", null, good);
  adapter("no-weights", cfg, null);
  adapter("bad-json", "{ r: 4", good);
  adapter("config-list", "[1, 2]", good);
  adapter("rank-zero", { ...cfg, r: 0 }, good);
  adapter("rank-mismatch", { ...cfg, r: 8 }, good);
  adapter("no-tensors", cfg, encodeSafetensors([]));
  adapter("truncated", cfg, good.slice(0, good.length - 10));
  adapter("garbage", cfg, new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]));
  adapter("empty-file", cfg, new Uint8Array(0));
  adapter("huge-header", cfg, new Uint8Array([255, 255, 255, 255, 255, 255, 0, 0, 123]));
  adapter("bad-key", cfg, encodeSafetensors([["q.lora_A.weight", A], ["q.lora_B.weight", B]]));
  adapter("a-without-b", cfg, encodeSafetensors([[k("q.lora_A.weight"), A]]));
  adapter("b-without-a", cfg, encodeSafetensors([[k("q.lora_B.weight"), B]]));
  adapter("bad-shape", cfg, encodeSafetensors([[k("q.lora_A.weight"), { ...A, shape: [3, 8] }], [k("q.lora_B.weight"), B]]));
  adapter("dora", cfg, encodeSafetensors([[k("q.lora_A.weight"), A], [k("q.lora_B.weight"), B], [k("q.lora_magnitude_vector"), { ...A, shape: [24] }]]));
  const bin = path.join(dir, "bin-only");
  mkdirSync(bin, { recursive: true });
  writeFileSync(path.join(bin, "adapter_config.json"), JSON.stringify(cfg));
  writeFileSync(path.join(bin, "adapter_model.bin"), "PK");
  f["bin-only"] = bin;
  writeFileSync(path.join(dir, "afile"), "x");
  f["afile"] = path.join(dir, "afile");
  mkdirSync(path.join(dir, "nonempty"), { recursive: true });
  writeFileSync(path.join(dir, "nonempty", "x"), "x");
  f["nonempty"] = path.join(dir, "nonempty");
  // evaluate's run.json cases
  for (const [name, run] of [
    ["run-no-spec", "{}"],
    ["run-bad-json", "{"],
    ["run-other-task", JSON.stringify({ spec: { task: "sentiment", seed: 0, batch: 8 } })],
    ["run-other-rank", JSON.stringify({ spec: { task: "spam", seed: 0, batch: 8, r: 16, loraAlpha: 8 } })],
    ["run-other-alpha", JSON.stringify({ spec: { task: "spam", seed: 0, batch: 8, r: 4, loraAlpha: 32 } })],
  ] as const) {
    adapter(name, cfg, good);
    writeFileSync(path.join(dir, name, "run.json"), run);
  }
  // config files
  const conf = (name: string, text: string): void => {
    writeFileSync(path.join(dir, name), text);
    f[name] = path.join(dir, name);
  };
  conf("c-bad.json", "{");
  conf("c-list.yaml", "- 1\n- 2\n");
  conf("c-unknown.json", JSON.stringify({ nope: 1 }));
  conf("c-type.json", JSON.stringify({ seeds: "three" }));
  conf("c-range.json", JSON.stringify({ seeds: 1e9 }));
  conf("c-repeat.json", JSON.stringify({ inits: ["init-a", "init-a"] }));
  conf("c-empty-list.json", JSON.stringify({ inits: [] }));
  conf("c-bad.yaml", "task: [unclosed\n");
  conf("c-scalar.yaml", "42\n");
  conf("c-null.json", "null");
  conf("c-lrs-repeat.json", JSON.stringify({ lrs: [1e-3, 1e-3] }));
  conf("c-lr-denormal.json", JSON.stringify({ lr: 5e-324, task: "spam" }));
  conf("c-batch.json", JSON.stringify({ batch: 1e9, task: "spam", lr: 1e-3 }));
  conf("c-widths.yaml", "widths: [64, 64]\n");
  return f;
}

/** --out values every writing command must refuse, with the sentence each gets. */
function badOutDirs(fx: Record<string, string>): Array<[string, RegExp]> {
  const longName = path.join(TMP, "n".repeat(300));
  return [
    [fx["afile"] as string, /is a file, not a folder|is a file; give --out/],
    [path.join(fx["afile"] as string, "sub"), /not a directory|is a file/],
    ["/dev/null", /under \/dev/],
    ["/dev/shm/x", /under \/dev/],
    ["/proc/self/x", /under \/proc/],
    ["/proc/1/fd/out", /under \/proc/],
    ["/sys/kernel/x", /under \/sys/],
    [longName, /name is too long/],
    [path.join(longName, "x"), /name is too long/],
  ];
}

/** Hand-written cases: output folders, positional arguments, files, config files. */
function handWritten(fx: Record<string, string>): BadInput[] {
  const c: BadInput[] = [];
  const add = (argv: string[], expect: RegExp, out?: string) =>
    c.push({ command: argv[0] as string, argv, expect, ...(out === undefined ? {} : { out }) });
  const badOuts = badOutDirs(fx);
  for (const cmd of ["reproduce", "finetune", "sweep", "convert"]) {
    for (const [out, re] of badOuts) {
      const args = baseArgs(cmd, out);
      add([cmd, ...args], re);
    }
    add([cmd, ...baseArgs(cmd, "")], /--out is empty/);
    add([cmd, ...baseArgs(cmd, "   ")], /--out is empty/);
    add([cmd, ...baseArgs(cmd, freshOut()), "stray"], /positional|takes only flags|source format/);
  }
  add(["convert", ...baseArgs("convert", fx["nonempty"] as string)], /is not empty/);
  // inspect
  for (const [name, re] of [
    ["no-config", /has no adapter_config\.json/],
    ["no-weights", /has no adapter_model\.safetensors/],
    ["bad-json", /is not valid JSON/],
    ["config-list", /adapter_config|must|mapping|object/],
    ["rank-zero", /\br\b/],
    ["rank-mismatch", /with r = 8 it must be/],
    ["no-tensors", /holds no tensors/],
    ["truncated", /safetensors|ended|truncated|bytes/],
    ["garbage", /safetensors/],
    ["empty-file", /safetensors/],
    ["huge-header", /safetensors|header/],
    ["bad-key", /does not start with "base_model\.model\."/],
    ["a-without-b", /has no matching lora_B/],
    ["b-without-a", /has no matching lora_A/],
    ["bad-shape", /must be \[4, in\]/],
    ["dora", /LoRA tensor kind lorascope does not read/],
    ["bin-only", /PyTorch pickle/],
    ["afile", /is not a directory/],
  ] as const) {
    add(["inspect", fx[name] as string], re);
  }
  add(["inspect", path.join(TMP, "missing")], /does not exist/);
  add(["inspect"], /takes one adapter directory/);
  add(["inspect", "a", "b"], /takes one adapter directory/);
  add(["inspect", fx["adapter-ok"] as string, "--json=maybe"], /--json/);
  // evaluate
  for (const [name, re] of [
    ["run-no-spec", /has no "spec"/],
    ["run-bad-json", /no readable run\.json/],
    ["run-other-task", /was trained on sentiment, not spam/],
    ["run-other-rank", /has r = 4 but its run\.json trained with r = 16/],
    ["run-other-alpha", /lora_alpha = 8 but its run\.json trained with lora_alpha = 32/],
    ["adapter-ok", /has r = 4 but its run\.json trained with r = 8/],
    ["no-weights", /run\.json/],
  ] as const) {
    add(["evaluate", "--task", "spam", "--adapter", fx[name] as string], re);
  }
  add(["evaluate", "--task", "spam", "--adapter", path.join(TMP, "missing")], /does not exist/);
  add(["evaluate", "--task", "spam", "--adapter", fx["adapter-ok"] as string, "extra"], /takes only flags, got "extra"/);
  add(["evaluate", "--adapter", fx["adapter-ok"] as string], /give --task \(sentiment or spam\) or --data DIR/);
  // config files
  for (const cmd of ["reproduce", "finetune", "sweep"]) {
    for (const [name, re] of [
      ["c-bad.json", /is not valid JSON/],
      ["c-list.yaml", /must hold one mapping/],
      ["c-unknown.json", /unknown key "nope"/],
      ["c-bad.yaml", /is not valid YAML/],
      ["c-scalar.yaml", /must hold one mapping/],
      ["c-null.json", /must hold one mapping/],
    ] as const) {
      add([cmd, ...baseArgs(cmd, freshOut()), "--config", fx[name] as string], re);
    }
    add([cmd, ...baseArgs(cmd, freshOut()), "--config", path.join(TMP, "missing.json")], /cannot read the config file/);
  }
  add(["reproduce", ...baseArgs("reproduce", freshOut()), "--config", fx["c-type.json"] as string], /"seeds" must be/);
  add(["reproduce", ...baseArgs("reproduce", freshOut()), "--config", fx["c-range.json"] as string], /"seeds" must be at most/);
  add(["reproduce", ...baseArgs("reproduce", freshOut()), "--config", fx["c-repeat.json"] as string], /"inits" lists a value more than once/);
  add(["reproduce", ...baseArgs("reproduce", freshOut()), "--config", fx["c-empty-list.json"] as string], /"inits" needs at least one value/);
  add(["reproduce", ...baseArgs("reproduce", freshOut()), "--config", fx["c-widths.yaml"] as string], /"widths" lists a value more than once/);
  add(["sweep", ...baseArgs("sweep", freshOut()), "--config", fx["c-lrs-repeat.json"] as string], /"lrs" lists a value more than once/);
  add(["finetune", "--out", freshOut(), "--config", fx["c-lr-denormal.json"] as string], /"lr" must be at least 1e-12/);
  add(["finetune", "--out", freshOut(), "--config", fx["c-batch.json"] as string], /"batch" must be at most 1024/);
  // reproduce's --lrs grammar and grid bounds
  const r = (...a: string[]) => ["reproduce", ...baseArgs("reproduce", freshOut()), ...a];
  for (const [lrs, re] of [
    ["1e-3:1e-1:1e300", /count must be at most 1000/],
    ["1e-3:1e-1", /min:max:count/],
    ["1e-3:1e-1:0", /count must be a positive integer/],
    ["1e-1:1e-3:5", /max must be ≥ min/],
    ["1e-3:1e-3:5", /repeats one learning rate/],
    ["1e-3,1e-3", /more than once/],
    ["2^-3,0.125", /more than once/],
    ["1e-320", /between 1e-12 and/],
    ["5e-324", /between 1e-12 and/],
    ["1e7", /between 1e-12 and/],
    ["-1e-3", /positive numbers/],
    ["abc", /positive numbers/],
    ["2^abc", /positive numbers/],
    [",", /at least one learning rate/],
  ] as const) {
    add(r("--lrs", lrs), re);
  }
  add(r("--widths", "100000"), /needs about [\d.]+ GiB in one engine/);
  add(r("--widths", "2", "--rank", "4"), /every width must be an integer ≥ r = 4/);
  add(r("--inits", "pissa"), /not known|changes the model at step 0/);
  add(r("--inits", "orthogonal", "--rank", "3"), /needs an even r/);
  add(r("--widths", "64,128,64"), /more than once/);
  // finetune / sweep specifics
  const ft = (...a: string[]) => ["finetune", "--task", "spam", "--out", freshOut(), ...a];
  add(ft("--lr", "5e-324"), /--lr must be at least 1e-12/);
  add(ft("--lr", "1e-3", "--seed", "-1"), /--seed must be at least 0/);
  add(ft("--lr", "1e-3", "--rank", "1e9"), /--rank must be at most 512/);
  add(ft("--lr", "1e-3", "--batch", "1e9"), /--batch must be at most 1024/);
  add(ft("--lr", "1e-3", "--init", "orthogonal", "--rank", "3"), /even/);
  add(ft("--lr", "1e-3", "--warmup-fraction", "1"), /warmup/i);
  add(["finetune", "--task", "spam", "--out", freshOut()], /--lr is required/);
  add(["finetune", "--lr", "1e-3"], /give --task \(sentiment or spam\) or --data DIR/);
  add(["sweep", "--task", "spam", "--out", freshOut(), "--lrs", "1e-3,1e-3"], /more than once/);
  add(["sweep", "--task", "spam", "--out", freshOut(), "--seeds", "1e300"], /--seeds must be at most/);
  add(["sweep", "--task", "spam", "--out", freshOut(), "--inits", "init-a,init-a"], /more than once/);
  // coord-check
  add(["coord-check", "--widths", "64,64"], /more than once/);
  add(["coord-check", "--widths", "64"], /at least two widths/);
  add(["coord-check", "--widths", "10000000,20000000"], /must be at most/);
  add(["coord-check", "extra"], /no positional arguments/);
  // convert: bad source files (found while running: exit 1)
  const cv = (ck: string, tok: string) => ["convert", "llama2c", "--checkpoint", ck, "--tokenizer", tok, "--out", freshOut()];
  const tok = path.join(STORIES, "tok512.bin");
  const ck = path.join(STORIES, "stories260K.bin");
  add(cv(path.join(TMP, "missing.bin"), tok), /does not exist|cannot read/);
  add(cv(ck, path.join(TMP, "missing.bin")), /does not exist|cannot read/);
  add(cv(fx["afile"] as string, tok), /checkpoint|header|too short|bytes/);
  add(cv(ck, fx["afile"] as string), /tokenizer|bytes|short/);
  add(cv(path.join(TMP, "fixtures"), tok), /directory|cannot read|EISDIR/);
  add(["convert", "gguf", "--checkpoint", ck, "--tokenizer", tok, "--out", freshOut()], /source format/);
  add(["convert", "--checkpoint", ck, "--tokenizer", tok, "--out", freshOut()], /source format/);
  // the command line itself
  add(["nosuchcommand"], /unknown command/);
  add(["help", "a", "b"], /give one command/);
  add(["help", "nosuch"], /unknown command/);
  return c;
}

function folderEmpty(dir: string | undefined): boolean {
  if (dir === undefined || !existsSync(dir)) return true;
  return statSync(dir).isDirectory() && readdirSync(dir).length === 0;
}

/** Longest a bad input may take to be refused, whatever else runs at the same time. */
const CASE_LIMIT_MS = 60_000;

async function badInputs(match: string | undefined, parallel: number): Promise<{ total: number; passed: number }> {
  const fx = makeFixtures();
  const lm = makeLmFixtures(path.join(TMP, "lm"));
  const all = [
    ...handWritten(fx),
    ...generated(),
    ...lmHandWritten(lm, freshOut, badOutDirs(fx)),
    ...lmGenerated(lm, freshOut, badValues),
  ];
  const cases = match === undefined ? all : all.filter((c) => new RegExp(match).test(c.argv.join(" ")));
  let passed = 0;
  const failures: string[] = [];
  const slowest: Array<[number, string]> = [];
  const queue = [...cases];
  const worker = async (): Promise<void> => {
    for (let c = queue.shift(); c !== undefined; c = queue.shift()) {
      const t0 = performance.now();
      const r = await cli(c.argv, { timeoutMs: CASE_LIMIT_MS });
      slowest.push([performance.now() - t0, c.argv.join(" ")]);
      const lines = r.stderr.trimEnd().split("\n").filter((l) => l !== "");
      const problems = [
        r.timedOut ? `no answer within ${CASE_LIMIT_MS / 1000} s` : "",
        r.code === 0 ? "exit 0" : "",
        lines.length !== 1 ? `${lines.length} lines on stderr` : "",
        /\n\s+at |^\s+at /m.test(r.stderr) ? "a stack trace" : "",
        /internal error/.test(r.stderr) ? "internal error" : "",
        c.expect.test(r.stderr) ? "" : `no match for ${c.expect}`,
        folderEmpty(c.out) ? "" : `files left in ${c.out}`,
      ].filter((p) => p !== "");
      if (problems.length === 0) passed++;
      else failures.push(`lorascope ${c.argv.join(" ")}\n    → ${problems.join("; ")}\n    stderr: ${r.stderr.trim().slice(0, 400)}`);
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
  for (const f of failures) process.stderr.write(`FAIL ${f}\n`);
  slowest.sort((a, b) => b[0] - a[0]);
  const total = slowest.reduce((a, [ms]) => a + ms, 0);
  process.stdout.write(
    `bad inputs: ${(total / 1000).toFixed(0)} s of case time over ${parallel} at once; slowest: ` +
      slowest.slice(0, 3).map(([ms, a]) => `${(ms / 1000).toFixed(1)} s (${a.slice(0, 80)})`).join(", ") + "\n",
  );
  return { total: cases.length, passed };
}

// ---------------------------------------------------------------- part 2: SIGKILL and resume

/** Row files of a run folder, sorted (temp files and the lock excluded). */
const runRows = (out: string): string[] =>
  existsSync(path.join(out, "runs"))
    ? readdirSync(path.join(out, "runs"))
        .filter((f) => !f.startsWith("."))
        .map((f) => path.join("runs", f))
        .sort()
    : [];

/** Fields that measure the machine (speed, memory), not the result: left out of the comparison. */
const MACHINE_FIELDS = new Set(["examplesPerSecond", "evalExamplesPerSecond", "peakRssMiB", "seconds"]);

/** What a finished run folder holds that must not depend on kills: each row file, and `extra` files. */
function results(out: string, extra: readonly string[]): string {
  const rows = runRows(out).map((f) => {
    const text = readFileSync(path.join(out, f), "utf8");
    const lines = text.split("\n").filter((l) => l !== "");
    const drop = (k: string, v: unknown): unknown => (MACHINE_FIELDS.has(k) ? undefined : v);
    const clean = lines.map((l) => JSON.stringify(JSON.parse(l, drop)));
    return `${f}\n${clean.join("\n")}`;
  });
  const files = extra.map((f) => `${f}\n${existsSync(path.join(out, f)) ? readFileSync(path.join(out, f), "utf8") : "(missing)"}`);
  return [...rows, ...files].join("\n");
}

interface KillReport {
  kills: number;
  lost: number;
  identical: boolean;
  failures: string[];
}

/**
 * Until `kills` SIGKILLs have landed: start `args` into a fresh folder and SIGKILL its process group
 * at a random moment, up to `perChain` times in a row (each start resumes the last), then let it
 * finish and compare with an uninterrupted run. A finished run must never lose a row file.
 */
async function killTrials(
  label: string,
  args: (out: string) => string[],
  kills: number,
  perChain: number,
  extra: readonly string[],
): Promise<KillReport> {
  const ref = path.join(TMP, `${label}-ref`);
  const t0 = performance.now();
  const report: KillReport = { kills: 0, lost: 0, identical: true, failures: [] };
  if (kills === 0) return report;
  const started = Date.now();
  const first = await cli(args(ref), { timeoutMs: 900_000 });
  const refMs = performance.now() - t0;
  if (first.code !== 0) throw new Error(`the uninterrupted ${label} run failed: ${first.stderr}`);
  const want = results(ref, extra);
  const rowCount = runRows(ref).length;
  // When the uninterrupted run saved its last row: what comes after (analysis, report) is redone by
  // every start that finds all rows saved, so kills are spread over the part that trains.
  const lastRowMs = Math.max(...runRows(ref).map((f) => statSync(path.join(ref, f)).mtimeMs - started), 1000);
  for (let chain = 0; report.kills < kills; chain++) {
    const out = path.join(TMP, `${label}-${chain}`);
    let finished = false;
    for (let k = 0; k < perChain && report.kills < kills && !finished; k++) {
      const before = new Set(runRows(out));
      // A resumed run has less left to train: the window shrinks with the rows still missing.
      const left = Math.max(0.25, 1 - before.size / rowCount);
      const r = await cli(args(out), { killAfterMs: 300 + Math.random() * lastRowMs * left, timeoutMs: 900_000 });
      const after = new Set(runRows(out));
      for (const f of before) if (!after.has(f)) report.lost++;
      if (r.code === 0) finished = true;
      else if (r.signal === "SIGKILL") report.kills++;
      else report.failures.push(`${label} chain ${chain}: exit ${r.code}: ${r.stderr.slice(-400)}`);
    }
    if (!finished) {
      const last = await cli(args(out), { timeoutMs: 900_000 });
      if (last.code !== 0) report.failures.push(`${label} chain ${chain}: the resumed run failed: ${last.stderr.slice(-400)}`);
    }
    if (results(out, extra) !== want) {
      report.identical = false;
      report.failures.push(`${label} chain ${chain}: results differ from the uninterrupted run`);
    }
    rmSync(out, { recursive: true, force: true });
  }
  const secs = (ms: number): string => (ms / 1000).toFixed(0);
  process.stdout.write(
    `${label}: ${report.kills} kills in ${secs(performance.now() - t0)} s (uninterrupted run ${secs(refMs)} s, last row at ${secs(lastRowMs)} s)\n`,
  );
  return report;
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const flag = (name: string, dflt: number): number => {
    const i = argv.indexOf(name);
    return i === -1 ? dflt : Number(argv[i + 1]);
  };
  const value = (name: string): string | undefined => {
    const i = argv.indexOf(name);
    return i === -1 ? undefined : argv[i + 1];
  };
  const t0 = performance.now();
  if (!argv.includes("--no-build")) execFileSync("npm", ["run", "--silent", "build"], { cwd: ROOT, stdio: "inherit" });
  const parallel = flag("--parallel", Math.max(1, Math.min(4, os.availableParallelism())));
  const bad = argv.includes("--kills-only") ? { total: 0, passed: 0 } : await badInputs(value("--match"), parallel);
  process.stdout.write(`${bad.total} bad inputs: ${bad.passed} passed\n`);
  let ok = bad.passed === bad.total;
  if (!argv.includes("--inputs-only")) {
    // Short chains of a small grid: 4 row files (2 widths × 2 seeds) of 6 runs each, so that a kill
    // lands between, inside or after jobs; at most 5 kills before the chain is let finish.
    const toy = await killTrials(
      "reproduce",
      (out) => ["reproduce", "--quick", "--widths", "64,128", "--lrs", "2^-9,2^-7,2^-5", "--steps", "5", "--workers", "2", "--out", out],
      flag("--kills", 50),
      5,
      ["summary.md"],
    );
    const sweepArgs = (out: string): string[] => [
      "sweep", "--task", "spam", "--lrs", "1e-3,3e-3", "--inits", "init-a,init-b", "--limit", "24",
      "--eval-limit", "16", "--batch", "8", "--workers", "2", "--out", out,
    ];
    const enc = await killTrials("sweep", sweepArgs, flag("--sweep-kills", 5), 5, []);
    for (const f of [...toy.failures, ...enc.failures]) process.stderr.write(`FAIL ${f}\n`);
    const kills = toy.kills + enc.kills;
    const identical = toy.identical && enc.identical;
    process.stdout.write(
      `${kills} kills: ${toy.lost + enc.lost} runs lost, results identical: ${identical ? "yes" : "no"} ` +
        `(reproduce ${toy.kills}, sweep ${enc.kills})\n`,
    );
    ok &&= identical && toy.lost + enc.lost === 0 && toy.failures.length + enc.failures.length === 0;
  }
  process.stdout.write(`torture: ${((performance.now() - t0) / 1000).toFixed(0)} s\n`);
  rmSync(TMP, { recursive: true, force: true });
  process.exitCode = ok ? 0 : 1;
}

await main();
