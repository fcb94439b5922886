import { test } from "node:test";
import assert from "node:assert/strict";
import { parseFlags, type FlagTable } from "../src/cli/flags.ts";
import { UserError } from "../src/core/errors.ts";

const table: FlagTable = {
  widths: { kind: "intlist", help: "widths" },
  lr: { kind: "number", help: "learning rate" },
  init: { kind: "list", help: "inits", choices: ["init-a", "init-b"] },
  json: { kind: "bool", help: "json output" },
  out: { kind: "string", help: "folder" },
};

test("parses every kind, both --k v and --k=v", () => {
  const p = parseFlags(table, ["--widths", "64,128", "--lr=0.5", "--init", "init-b", "--json", "x", "--out=o"]);
  assert.deepEqual(p.flags, { widths: [64, 128], lr: 0.5, init: ["init-b"], json: true, out: "o" });
  assert.deepEqual(p.positional, ["x"]);
});

test("bad input gives one UserError sentence", () => {
  const cases: Array<[string[], RegExp]> = [
    [["--nope"], /unknown flag --nope/],
    [["--lr", "abc"], /--lr must be a number/],
    [["--widths", "64,1.5"], /--widths must be an integer/],
    [["--widths", ","], /at least one value/],
    [["--init", "init-c"], /allowed values are init-a, init-b/],
    [["--lr"], /needs a value/],
  ];
  for (const [argv, re] of cases) {
    assert.throws(() => parseFlags(table, argv), (e: unknown) => e instanceof UserError && re.test(e.message));
  }
});
