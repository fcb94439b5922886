// argv → flag values (src/cli/flags.ts), --config files (config-file.ts), help text and wrapping: pure
// functions, tested without running a command.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseArgv, parseFlags, resolveFlags, settingsOf, type FlagTable } from "../src/cli/flags.ts";
import { configValues } from "../src/cli/config-file.ts";
import { commandHelp, flagHelp } from "../src/cli/help.ts";
import { commands } from "../src/cli/registry.ts";
import { wrap } from "../src/cli/wrap.ts";
import { UserError } from "../src/core/errors.ts";

const table = {
  config: { kind: "string", short: "c", setting: false, help: "config file" },
  widths: { kind: "intlist", help: "widths", min: 2, default: [64, 128] },
  lr: { kind: "number", help: "learning rate", positive: true, required: true },
  seeds: { kind: "int", help: "seeds", min: 1, default: 3 },
  init: { kind: "list", help: "inits", choices: ["init-a", "init-b"], default: ["init-a"] },
  json: { kind: "bool", help: "json output", setting: false },
  quick: { kind: "bool", short: "q", help: "small grid", default: true },
  out: { kind: "string", short: "o", help: "folder", setting: false },
} as const satisfies FlagTable;

const userError = (re: RegExp) => (e: unknown) => e instanceof UserError && re.test(e.message) && !e.message.includes("\n");

test("parses every kind: --k v, --k=v, short flags, --no-x, and -- ends the flags", () => {
  const p = parseArgv(table, ["--widths", "64,128", "--lr=0.5", "--init", "init-b", "--json", "x", "-o", "dir", "--no-quick", "--", "--seeds", "-q"]);
  assert.deepEqual(Object.fromEntries(p.given), { widths: [64, 128], lr: 0.5, init: ["init-b"], json: true, out: "dir", quick: false });
  assert.deepEqual(p.positional, ["x", "--seeds", "-q"]);
  // A value may start with a dash (a negative number is still the flag's value, and checked as one).
  assert.deepEqual(Object.fromEntries(parseArgv(table, ["-q", "-o", "-dir"]).given), { quick: true, out: "-dir" });
  assert.throws(() => parseArgv(table, ["--lr", "-1e-3"]), userError(/--lr must be positive, got -0\.001/));
});

test("defaults fill what was not given; the command line beats a config file", () => {
  const r = resolveFlags(table, new Map([["lr", 0.1]]), [], new Map<string, number | readonly number[]>([["lr", 0.2], ["seeds", 5]]));
  assert.deepEqual({ ...r.values }, { config: undefined, widths: [64, 128], lr: 0.1, seeds: 5, init: ["init-a"], json: false, quick: true, out: undefined });
  assert.deepEqual([...r.given].sort(), ["lr", "seeds"]);
  assert.deepEqual(settingsOf(table, r.values), { widths: [64, 128], lr: 0.1, seeds: 5, init: ["init-a"], quick: true });
});

test("bad input gives one UserError sentence", () => {
  const cases: Array<[string[], RegExp]> = [
    [["--nope"], /^unknown flag --nope; the flags are --config, --widths, --lr, --seeds, --init, --json, --quick, --out$/],
    [["-x"], /unknown flag -x/],
    [["--no-lr", "1"], /unknown flag --no-lr/],
    [["--lr", "abc"], /--lr must be a number, got "abc"/],
    [["--lr", "Infinity"], /--lr must be a number/],
    [["--lr", "0"], /--lr must be positive, got 0/],
    [["--seeds", "1.5"], /--seeds must be an integer/],
    [["--seeds", "0"], /--seeds must be at least 1, got 0/],
    [["--widths", "64,1.5"], /--widths must be an integer/],
    [["--widths", ","], /at least one value/],
    [["--init", "init-c"], /--init "init-c" is not known; use one of init-a, init-b/],
    [["--lr"], /--lr needs a value/],
    [["-o"], /-o needs a value/],
    [["--lr", "1", "--lr", "2"], /^--lr was given more than once; give it once$/],
    [["--quick", "--no-quick"], /--quick was given more than once/],
    [["--json=yes"], /--json takes no value/],
  ];
  for (const [argv, re] of cases) assert.throws(() => parseArgv(table, argv), userError(re), argv.join(" "));
  assert.throws(() => resolveFlags(table, new Map(), []), userError(/^--lr is required$/));
});

test("names of Object.prototype members are unknown flags, not matches", () => {
  for (const name of ["constructor", "__proto__", "toString", "hasOwnProperty", "valueOf"]) {
    assert.throws(() => parseArgv(table, [`--${name}`]), userError(new RegExp(`unknown flag --${name}`)), name);
    assert.throws(() => parseArgv(table, [`--${name}=1`]), userError(/unknown flag/), name);
    assert.throws(() => configValues(table, JSON.parse(`{"${name}": 1}`), "c.json"), userError(new RegExp(`unknown key "${name}"`)), name);
  }
});

test("config files: JSON or YAML, checked with the flags' own rules, unknown keys named", async () => {
  const dir = mkdtempSync(path.join(tmpdir(), "lorascope-config-"));
  const json = path.join(dir, "c.json");
  writeFileSync(json, JSON.stringify({ lr: 0.25, widths: [8, 16], init: ["init-b"] }));
  const fromJson = await parseFlags(table, ["--config", json, "--seeds", "2"]);
  assert.deepEqual([fromJson.values.lr, fromJson.values.widths, fromJson.values.init, fromJson.values.seeds], [0.25, [8, 16], ["init-b"], 2]);
  const yaml = path.join(dir, "c.yaml");
  writeFileSync(yaml, "lr: 0.5\nquick: false\n");
  const fromYaml = await parseFlags(table, ["-c", yaml, "--lr", "0.75"]);
  assert.equal(fromYaml.values.lr, 0.75); // the command line wins
  assert.equal(fromYaml.values.quick, false);

  const bad: Array<[unknown, RegExp]> = [
    [{ lr: 1, frobnicate: 2 }, /^c\.json has an unknown key "frobnicate"; the allowed keys are widths, lr, seeds, init, json, quick, out$/],
    [{ config: "x.json" }, /unknown key "config"/],
    [{ lr: "fast" }, /"lr" must be a number/],
    [{ lr: -1 }, /"lr" must be positive/],
    [{ seeds: 2.5 }, /"seeds" must be an integer/],
    [{ seeds: 0 }, /"seeds" must be at least 1/],
    [{ widths: [] }, /"widths" needs at least one value/],
    [{ widths: [64, 1] }, /"widths\.1" must be at least 2/],
    [{ init: ["init-c"] }, /"init\.0" must be one of init-a, init-b/],
    [{ quick: "yes" }, /"quick" must be true or false/],
    [[1, 2], /must hold one mapping/],
  ];
  for (const [content, re] of bad) assert.throws(() => configValues(table, content, "c.json"), userError(re), JSON.stringify(content));
  await assert.rejects(parseFlags(table, ["--config", path.join(dir, "missing.yaml")]), userError(/cannot read the config file .*missing\.yaml \(ENOENT\)/));
  writeFileSync(path.join(dir, "broken.json"), "{ lr: ");
  await assert.rejects(parseFlags(table, ["--config", path.join(dir, "broken.json")]), userError(/broken\.json is not valid JSON/));
});

test("wrap keeps every line within the width, indents continuations, never cuts a word", () => {
  assert.deepEqual(wrap("aa bb cc dd", 5), ["aa bb", "cc dd"]);
  assert.deepEqual(wrap("aa bb cc", 8, 2, "> "), ["> aa bb", "  cc"]);
  assert.deepEqual(wrap("a verylongword b", 6), ["a", "verylongword", "b"]);
  assert.deepEqual(wrap("", 10), [""]);
  const text = "lorem ipsum dolor sit amet ".repeat(40);
  for (const w of [20, 37, 100]) {
    const lines = wrap(text, w, 4);
    assert.ok(lines.every((l) => l.length <= w), `width ${w}`);
    assert.ok(lines.slice(1).every((l) => l.startsWith("    ") && !l.startsWith("     ")));
    assert.equal(lines.join(" ").split(/\s+/).filter(Boolean).join(" "), text.trim());
  }
});

test("every command's help fits in 100 columns and shows the table's defaults", () => {
  for (const c of commands) {
    const help = c.help();
    for (const line of help.split("\n")) assert.ok(line.length <= 100, `${c.name}: ${line.length} columns: ${line}`);
  }
  const rows = flagHelp(table).split("\n");
  assert.match(rows.find((r) => r.includes("--widths")) ?? "", /\(default: 64,128\)/);
  assert.match(rows.find((r) => r.includes("--lr")) ?? "", /\(required\)/);
  assert.match(rows.find((r) => r.includes("--out")) ?? "", /^ {2}-o, --out <text>/);
  assert.ok(commandHelp("Usage: x", ["about"], table, 60).split("\n").every((l) => l.length <= 60));
});

test("a command's short flags are one letter each, unique, and leave -h to help", () => {
  for (const c of commands) {
    // A command with two forms (finetune and evaluate: a causal LM or the sentence encoder) shows one
    // flag table per form, each after its own "Usage:" line.
    for (const form of c.help().split(/^(?=Usage: )/m).filter((f) => f.startsWith("Usage: "))) {
      const shorts = [...form.matchAll(/^ {2}-(\w), --/gm)].map((m) => m[1]);
      assert.equal(new Set(shorts).size, shorts.length, `${c.name}: ${shorts.join(" ")}`);
      assert.equal(shorts.filter((s) => s === "h").length, 1, c.name);
    }
  }
});
