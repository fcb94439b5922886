// `lorascope finetune` and `lorascope evaluate` on a causal LM, run as users run them: a tiny finetune
// of stories260K writes an adapter whose `evaluate --adapter` loss is the run's validation loss, and
// each bad input is one sentence with its exit code (2: the command line; 1: a file found bad while
// running) and nothing left in --out.
import { test } from "node:test";
import assert from "node:assert/strict";
import { cp, mkdtemp, readdir, readFile, writeFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { lorascope } from "./support/cli.ts";

const dir = await mkdtemp(path.join(tmpdir(), "lorascope-cli-lm-"));
const text = path.join(dir, "story.txt");
await writeFile(text, "Once upon a time, there was a little dog named Max. He liked to run in the sun.\n".repeat(4));
const GPT2 = path.resolve(import.meta.dirname, "fixtures/lm/gpt2");

test("finetune --model stories260K writes an adapter that evaluate reloads to the run's validation loss", { timeout: 300_000 }, async () => {
  const out = path.join(dir, "run");
  const ft = await lorascope(
    "finetune", "--model", "stories260K", "--data", text, "--valid", text, "--init", "init-b", "--lr", "3e-3",
    "--steps", "2", "--batch", "2", "--seq-len", "16", "--dynamics-every", "0", "--out", out, "--json",
  );
  assert.equal(ft.code, 0, ft.stderr);
  type Summary = { steps: number; validation: { after: { loss: number; tokens: number } }; diverged: boolean };
  const r = JSON.parse(ft.stdout) as Summary;
  assert.equal(r.steps, 2);
  assert.equal(r.diverged, false);
  assert.match(ft.stderr, /tokens\/s/);
  assert.match(ft.stderr, /evaluating before training on 8 held-out sequences\n/);
  assert.match(ft.stderr, /evaluating after training on 8 held-out sequences\n/);
  const settings = JSON.parse(await readFile(path.join(out, "config.json"), "utf8")) as Record<string, unknown>;
  assert.equal(settings["model"], "stories260K");
  assert.equal(settings["seq-len"], 16);
  assert.equal(settings["out"], undefined, "where output goes is not a setting");

  const ev = await lorascope("evaluate", "--model", "stories260K", "--adapter", out, "--data", text, "--seq-len", "16", "--batch", "2", "--json");
  assert.equal(ev.code, 0, ev.stderr);
  const e = JSON.parse(ev.stdout) as { loss: number; perplexity: number; tokens: number };
  assert.deepEqual(Object.keys(e), ["loss", "perplexity", "tokens"]);
  assert.equal(e.tokens, r.validation.after.tokens);
  assert.ok(Math.abs(e.loss - r.validation.after.loss) < 1e-6, `${e.loss} vs ${r.validation.after.loss}`);
});

test("bad input: one sentence, exit 2 for the command line and 1 for a bad file, nothing in --out", { timeout: 300_000 }, async () => {
  const bert = path.join(dir, "bert");
  await cp(GPT2, bert, { recursive: true });
  const config = JSON.parse(await readFile(path.join(bert, "config.json"), "utf8")) as Record<string, unknown>;
  await writeFile(path.join(bert, "config.json"), JSON.stringify({ ...config, model_type: "bert" }));
  const noPairs = path.join(dir, "one.jsonl");
  await writeFile(noPairs, '{"input_ids": [1]}\n');
  const ids = path.join(dir, "ids.jsonl");
  await writeFile(ids, '{"input_ids": [1, 5, 9, 14]}\n');
  const used = path.join(dir, "used");
  await cp(GPT2, used, { recursive: true });
  const out = (name: string): string => path.join(dir, `out-${name}`);
  const ft = (name: string, ...args: string[]) => lorascope("finetune", "--lr", "1e-3", "--out", out(name), ...args);
  const cases: Array<[string, Promise<{ code: number; stderr: string }>, number, RegExp]> = [
    ["seq-len", ft("seq-len", "--model", "stories260K", "--data", text, "--seq-len", "513"), 2, /--seq-len 513 is more than stories260K's 512 positions/],
    ["no model", ft("no-model", "--model", path.join(dir, "nothing"), "--data", text), 2, /neither "stories260K" .* nor an existing/],
    ["used out", lorascope("finetune", "--model", "stories260K", "--data", text, "--lr", "1e-3", "--out", used), 2, /is not empty/],
    ["architecture", ft("arch", "--model", bert, "--data", noPairs), 1, /model_type "bert", which lorascope does not implement/],
    ["no tokenizer", ft("tok", "--model", GPT2, "--data", text, "--seq-len", "16"), 1, /has no tokenizer\.json/],
    ["no pair", ft("pair", "--model", "stories260K", "--data", noPairs), 1, /no sequence of at least two tokens/],
    [
      "other model's adapter",
      lorascope("evaluate", "--model", GPT2, "--adapter", path.resolve(import.meta.dirname, "fixtures/lm/roundtrip/stories260k-adapter"), "--data", ids, "--seq-len", "16"),
      1,
      /does not fit .* \(made for another model\?\)/,
    ],
  ];
  for (const [name, run, code, message] of cases) {
    const r = await run;
    assert.equal(r.code, code, `${name}: ${r.stderr}`);
    assert.match(r.stderr, message, name);
    assert.equal(r.stderr.trim().split("\n").length, 1, `${name}: one line`);
  }
  assert.deepEqual((await readdir(dir)).filter((n) => n.startsWith("out-")), [], "no --out folder was made");
  assert.ok(existsSync(path.join(used, "config.json")));
});
