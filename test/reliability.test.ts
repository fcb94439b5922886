// Bad input gets one sentence before any work: the output-folder guard, the folder lock, errors
// from sweep workers, bounds on counts and sizes, repeated list values, damaged state files, adapters
// that do not fit their run, and a lorascope whose parent goes away. The long version (hundreds of
// inputs, SIGKILLs and resumes) is `npm run torture` (scripts/torture.ts).
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";
import { UserError } from "../src/core/errors.ts";
import { reproduceConfig } from "../src/cli/commands/reproduce.ts";
import { finetuneConfig } from "../src/cli/commands/finetune.ts";
import { evaluate } from "../src/cli/commands/evaluate.ts";
import { coordCheckCommand } from "../src/cli/commands/coord-check.ts";
import { guardOutDir } from "../src/io/out-dir.ts";
import { LOCK_FILE, lockFolder } from "../src/io/out-lock.ts";
import { removeStaleTemps, writeFileAtomic } from "../src/io/atomic.ts";
import { fsErrorSentence, isFsError } from "../src/io/fs-errors.ts";
import { encodeSafetensors } from "../src/io/safetensors.ts";
import { loadAdapter } from "../src/io/peft.ts";
import { readRowFile } from "../src/experiments/store.ts";
import { runPool, WORKER_LOG } from "../src/experiments/worker-pool.ts";
import { runEncoderSweep, runId, type EncoderSweepSpec } from "../src/experiments/encoder/sweep.ts";
import { CLI_ARGS, lorascope } from "./support/cli.ts";
import { lmFinetuneConfig } from "../src/cli/commands/finetune-lm.ts";
import { generate } from "../src/cli/commands/generate.ts";
import { merge } from "../src/cli/commands/merge.ts";
import { hfFolderFiles } from "../src/io/convert-llama2c.ts";
import { loadStories260K } from "../src/io/stories260k.ts";
import { decodeSafetensors } from "../src/io/safetensors.ts";
import { loadLm } from "../src/io/lm-model.ts";
import { evaluateLm } from "../src/experiments/lm/evaluate.ts";

const tmp = (): string => mkdtempSync(path.join(os.tmpdir(), "lorascope-rel-"));
const refuses = async (p: Promise<unknown>, re: RegExp): Promise<void> => {
  await assert.rejects(p, (e: unknown) => e instanceof UserError && re.test(e.message));
};

test("the output guard: every bad --out is one sentence naming the path, before any work", async () => {
  const dir = tmp();
  const file = path.join(dir, "afile");
  writeFileSync(file, "x");
  await refuses(guardOutDir(file, { mode: "fill" }), /afile is a file, not a folder/);
  await refuses(guardOutDir(path.join(file, "sub"), { mode: "fill" }), /cannot create .*afile\/sub: a part of the path is a file.*ENOTDIR/);
  await refuses(guardOutDir("/dev/null", { mode: "fill" }), /under \/dev, a system folder/);
  await refuses(guardOutDir("/proc/self/x", { mode: "fill" }), /under \/proc/);
  await refuses(guardOutDir("/sys/x", { mode: "fresh" }), /under \/sys/);
  await refuses(guardOutDir("", { mode: "fill" }), /--out is empty/);
  await refuses(guardOutDir(path.join(dir, "n".repeat(300)), { mode: "fill" }), /the name is too long \(ENAMETOOLONG\)/);
  mkdirSync(path.join(dir, "full"));
  writeFileSync(path.join(dir, "full", "x"), "");
  await refuses(guardOutDir(path.join(dir, "full"), { mode: "fresh" }), /is not empty/);
  // Refused paths leave nothing behind.
  assert.deepEqual(readdirSync(dir).sort(), ["afile", "full"]);
  // A good one is created, probed (the probe is gone) and locked until exit.
  const out = await guardOutDir(path.join(dir, "a", "b"), { mode: "fill", command: "test" });
  assert.deepEqual(readdirSync(out), [LOCK_FILE]);
});

test("filesystem errors read as one sentence with the path and the reason", () => {
  const e = Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC", syscall: "write" });
  assert.ok(isFsError(e));
  assert.equal(fsErrorSentence(e, "/o/runs/x.jsonl", "write"), "cannot write /o/runs/x.jsonl: the disk is full (ENOSPC)");
  const ro = Object.assign(new Error("EROFS"), { code: "EROFS" });
  assert.match(isFsError(ro) ? fsErrorSentence(ro, "/o") : "", /read-only/);
  assert.ok(!isFsError(new TypeError("x")));
});

test("a folder in use by a live process is refused naming it; a stale lock is taken over", () => {
  const dir = tmp();
  const host = os.hostname();
  writeFileSync(path.join(dir, LOCK_FILE), JSON.stringify({ pid: process.ppid, host, command: "sweep", started: "then" }));
  assert.throws(() => lockFolder(dir, "reproduce"), new RegExp(`in use by lorascope sweep \\(pid ${process.ppid} on ${host}`));
  writeFileSync(path.join(dir, LOCK_FILE), JSON.stringify({ pid: 2 ** 30, host, command: "sweep", started: "then" }));
  lockFolder(dir, "reproduce");
  assert.equal((JSON.parse(readFileSync(path.join(dir, LOCK_FILE), "utf8")) as { pid: number }).pid, process.pid);
});

test("the stale-temp cleaner keeps a live writer's temp files and removes a dead one's", () => {
  const dir = tmp();
  const live = `.x.jsonl.${process.ppid}.0123456789ab.tmp`;
  const dead = `.y.jsonl.${2 ** 30}.0123456789ab.tmp`;
  for (const f of [live, dead]) writeFileSync(path.join(dir, f), "");
  removeStaleTemps(dir);
  assert.deepEqual(readdirSync(dir), [live]);
});

test("a worker's UserError reads as in the main process; an unexpected one names its log", async () => {
  const dir = tmp();
  const worker = new URL("./support/failing-worker.ts", import.meta.url);
  await refuses(runPool(worker, [{ kind: "user" }], 1, { logDir: dir }), /^runs\/x\.json is not a row file; remove it$/);
  await assert.rejects(runPool(worker, [{ kind: "internal" }], 1, { logDir: dir }), (e: unknown) => {
    assert.ok(e instanceof UserError);
    assert.match(e.message, new RegExp(`failed unexpectedly \\(cannot read properties.*details are in ${path.join(dir, WORKER_LOG)}`));
    assert.ok(!e.message.includes("\n"), "one line, no stack");
    return true;
  });
  assert.match(readFileSync(path.join(dir, WORKER_LOG), "utf8"), /TypeError: cannot read properties[\s\S]*failing-worker\.ts/);
});

test("counts, sizes and widths are bounded; repeats and denormal rates are refused", async () => {
  const bad: Array<[string[], RegExp]> = [
    [["--seeds", "1e300"], /--seeds must be at most 1000/],
    [["--lrs", "1e-3:1e-1:1e300"], /--lrs count must be at most 1000/],
    [["--steps", "1e300"], /--steps must be at most/],
    [["--rank", "1e9"], /--rank must be at most/],
    [["--widths", "10000000"], /--widths must be at most/],
    [["--widths", "200000"], /width 200000 needs about [\d.]+ GiB in one engine, more than its 4\.00 GiB heap/],
    [["--rank", "128", "--widths", "64"], /every width must be an integer ≥ r = 128/],
    [["--lrs", "1e-3,2e-3,1e-3"], /--lrs lists 0\.001 more than once/],
    [["--lrs", "1e-320"], /--lrs values must be between 1e-12 and/],
    [["--inits", "init-a,init-a"], /--inits lists init-a more than once/],
  ];
  for (const [argv, re] of bad) await refuses(reproduceConfig(argv), re);
  await refuses(finetuneConfig(["--task", "spam", "--lr", "1e-3", "--batch", "1e9"]), /--batch must be at most 1024/);
  await refuses(finetuneConfig(["--task", "spam", "--lr", "1e-3", "--rank", "1e9"]), /--rank must be at most 512/);
  await refuses(finetuneConfig(["--task", "spam", "--lr", "5e-324"]), /--lr must be at least 1e-12/);
  await refuses(finetuneConfig(["--task", "spam", "--lr", "1e-3", "--seed", "-1"]), /--seed must be at least 0/);
  await refuses(coordCheckCommand.prepare(["--widths", "64,64"]), /--widths lists 64 more than once/);
});

test("evaluate refuses stray arguments and an adapter of another rank than its run, before loading a model", async () => {
  const dir = tmp();
  writeFileSync(path.join(dir, "run.json"), JSON.stringify({ spec: { task: "spam", seed: 0, batch: 8, r: 8, loraAlpha: 8 } }));
  writeFileSync(path.join(dir, "adapter_config.json"), JSON.stringify({ r: 4, lora_alpha: 8, target_modules: ["q"] }));
  await refuses(evaluate.prepare(["--task", "spam", "--adapter", dir, "extra"]), /takes only flags, got "extra"/);
  await refuses(evaluate.prepare(["--task", "spam", "--adapter", dir]), /has r = 4 but its run\.json trained with r = 8/);
});

test("an adapter with no tensors is refused", async () => {
  const dir = tmp();
  writeFileSync(path.join(dir, "adapter_config.json"), JSON.stringify({ r: 4, lora_alpha: 8, target_modules: ["q"], peft_type: "LORA" }));
  writeFileSync(path.join(dir, "adapter_model.safetensors"), encodeSafetensors([]));
  await refuses(loadAdapter(dir), /holds no tensors/);
});

test("damaged state files are named, set aside as *.damaged and their runs redone", async () => {
  const dir = tmp();
  const f = path.join(dir, "rows.jsonl");
  writeFileSync(f, '{"a": 1}\n{"a": 2, "b"');
  assert.deepEqual(readRowFile(f, "all"), []);
  assert.ok(existsSync(`${f}.damaged`) && !existsSync(f));

  // A sweep whose every row exists (no training) with a cut-short sweep.json: set aside, rewritten.
  const out = tmp();
  const spec: EncoderSweepSpec = { task: "spam", lrs: [1e-3], inits: ["init-a"], seeds: 1, epochs: 1, headLr: 1e-2, batch: 8 };
  mkdirSync(path.join(out, "runs"));
  await writeFileAtomic(path.join(out, "runs", `${runId("init-a", 1e-3, 0)}.json`), JSON.stringify({ init: "init-a", lr: 1e-3, seed: 0 }) + "\n");
  writeFileSync(path.join(out, "sweep.json"), '{"task": "sp');
  const res = await runEncoderSweep(spec, out, { workers: 0 });
  assert.equal(res.runsSkipped, 1);
  assert.ok(existsSync(path.join(out, "sweep.json.damaged")));
  assert.equal((JSON.parse(readFileSync(path.join(out, "sweep.json"), "utf8")) as { task: string }).task, "spam");
});

test("language models: bad flags, damaged models, empty data and foreign adapters are one sentence", async () => {
  const dir = tmp();
  const afile = path.join(dir, "afile");
  writeFileSync(afile, "x");
  // The command line, refused before anything loads.
  const gen = (...a: string[]) => generate.prepare(["--model", "stories260K", ...a]);
  await refuses(gen("--top-p", "1.5"), /--top-p must be at most 1/);
  await refuses(gen("--top-p", "0"), /--top-p must be positive/);
  await refuses(gen("--temperature", "-1"), /--temperature must be at least 0/);
  await refuses(gen("--max-new-tokens", "0"), /--max-new-tokens must be at least 1/);
  const ft = (...a: string[]) => lmFinetuneConfig(["--model", "stories260K", "--data", afile, "--lr", "1e-3", ...a]);
  await refuses(ft("--seq-len", "1024"), /--seq-len 1024 is more than stories260K's 512 positions/);
  await refuses(ft("--out", "/proc/self/x"), /under \/proc, a system folder/);
  await refuses(ft("--out", path.join(afile, "sub")), /a part of the path is a file/);
  const mg = (out: string) => merge.prepare(["--model", "stories260K", "--adapter", dir, "--out", out]);
  await refuses(mg("/dev/shm/x"), /under \/dev, a system folder/);
  await refuses(mg(path.join(afile, "sub")), /a part of the path is a file/);
  await refuses(mg(dir), /is not empty/);

  // stories260K as a folder, damaged one way each.
  const files = hfFolderFiles(loadStories260K());
  const folder = (name: string, change: (m: Map<string, Uint8Array | string>) => void): string => {
    const m = new Map(files);
    change(m);
    mkdirSync(path.join(dir, name));
    for (const [f, data] of m) writeFileSync(path.join(dir, name, f), data);
    return path.join(dir, name);
  };
  const config = JSON.parse(files.get("config.json") as string) as Record<string, unknown>;
  const q = "model.layers.0.self_attn.q_proj.weight";
  const withoutQ = [...decodeSafetensors(files.get("model.safetensors") as Uint8Array, "w").tensors]
    .filter(([n]) => n !== q)
    .map(([n, t]) => [n, { shape: [...t.shape], data: t.data as Float32Array }] as const);
  await refuses(loadLm(folder("mistral", (m) => m.set("config.json", JSON.stringify({ ...config, model_type: "mistral" })))), /model_type "mistral", which lorascope does not implement/);
  await refuses(loadLm(folder("no-q", (m) => m.set("model.safetensors", encodeSafetensors(withoutQ)))), /missing model\.layers\.0\.self_attn\.q_proj\.weight/);
  const noTok = folder("no-tok", (m) => m.delete("tokenizer.json"));
  writeFileSync(path.join(dir, "text.txt"), "Once upon a time there was a cat.\n");
  writeFileSync(path.join(dir, "empty.txt"), "");
  writeFileSync(path.join(dir, "one.jsonl"), '{"input_ids": [5]}\n');
  const ev = (model: string, data: string, adapter?: string) =>
    evaluateLm({ model, data: path.join(dir, data), seqLen: 8, batch: 2, split: "test", ...(adapter === undefined ? {} : { adapter }) });
  await refuses(ev(noTok, "text.txt"), /has no tokenizer\.json/);
  await refuses(ev("stories260K", "empty.txt"), /empty\.txt is empty/);
  await refuses(ev("stories260K", "one.jsonl"), /gives no sequence of at least two tokens/);
  // An adapter whose factors do not fit q_proj's [64, 64].
  const adapter = path.join(dir, "adapter");
  mkdirSync(adapter);
  writeFileSync(path.join(adapter, "adapter_config.json"), JSON.stringify({ r: 4, lora_alpha: 8, target_modules: ["q_proj"], peft_type: "LORA" }));
  const key = (f: string) => `base_model.model.model.layers.0.self_attn.q_proj.${f}.weight`;
  writeFileSync(path.join(adapter, "adapter_model.safetensors"), encodeSafetensors([
    [key("lora_A"), { shape: [4, 128], data: new Float32Array(512) }],
    [key("lora_B"), { shape: [128, 4], data: new Float32Array(512) }],
  ]));
  await refuses(ev("stories260K", "text.txt", adapter), /\[128, 128\] update but the model's weight there is \[64, 64\]|does not fit stories260K/);
});

test("the CLI: a bad --out is exit 2 with one line, and nothing is written", async () => {
  const dir = tmp();
  writeFileSync(path.join(dir, "afile"), "x");
  for (const args of [
    ["reproduce", "--quick", "--out", path.join(dir, "afile", "sub")],
    ["reproduce", "--quick", "--out="],
    ["finetune", "--task", "spam", "--lr", "1e-3", "--out", "/proc/x"],
  ]) {
    const r = await lorascope(...args);
    assert.equal(r.code, 2, r.stderr);
    assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
    assert.doesNotMatch(r.stderr, /internal error|\n\s+at /);
  }
  assert.deepEqual(readdirSync(dir), ["afile"]);
});

/**
 * Start `lorascope ARGS --out DIR` under sh, kill sh once `ready(DIR)` (checked every 200 ms, at most a
 * minute) and say whether lorascope was still running 15 s later.
 */
async function outlivesKilledParent(args: readonly string[], ready: (out: string) => boolean): Promise<boolean> {
  const out = path.join(tmp(), "out");
  // sh starts lorascope in the background, prints its pid and waits; killing sh orphans it.
  const argv = [...CLI_ARGS, ...args, "--out", out].map((a) => `"${a}"`).join(" ");
  const cmd = `"${process.execPath}" ${argv} 2>/dev/null & echo $!; wait`;
  const sh = spawn("sh", ["-c", cmd], { stdio: ["ignore", "pipe", "ignore"] });
  const pid = await new Promise<number>((resolve) => sh.stdout.once("data", (d: Buffer) => resolve(Number(String(d).trim()))));
  for (const t0 = Date.now(); !ready(out) && Date.now() - t0 < 60_000; ) await new Promise((r) => setTimeout(r, 200));
  sh.kill("SIGKILL");
  const alive = (): boolean => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  const t0 = Date.now();
  while (alive() && Date.now() - t0 < 15000) await new Promise((r) => setTimeout(r, 200));
  const stillAlive = alive();
  if (stillAlive) process.kill(pid, "SIGKILL");
  return stillAlive;
}

test("lorascope stops when its parent goes away (a killed npx wrapper)", async () => {
  const started = Date.now();
  const after3s = (): boolean => Date.now() - started > 3000;
  assert.ok(!(await outlivesKilledParent(["reproduce", "--quick", "--workers", "1"], after3s)), "lorascope kept running after its parent was killed");
});

test("with --workers 0 it stops too, once its runs hold the main thread", async () => {
  // Killed once the first job's rows are saved, while the next job trains on this process's own
  // thread: a timer on the main thread may get no turn then, the watchdog thread does.
  const firstRowsSaved = (out: string): boolean =>
    existsSync(path.join(out, "runs")) && readdirSync(path.join(out, "runs")).some((f) => !f.startsWith("."));
  const args = ["reproduce", "--quick", "--workers", "0"];
  assert.ok(!(await outlivesKilledParent(args, firstRowsSaved)), "lorascope --workers 0 kept running after its parent was killed");
});
