// `lorascope convert llama2c`, run as users run it: the folder it writes (checked against what
// transformers read from it, test/fixtures/lm/stories260k.json), and that it writes all or nothing.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdir, mkdtemp, readdir, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { lorascope } from "./support/cli.ts";
import { writeFolderAtomic } from "../src/io/atomic.ts";
import { readSafetensors } from "../src/io/safetensors.ts";
import fixture from "./fixtures/lm/stories260k.json" with { type: "json" };

const CKPT = "assets/stories260K/stories260K.bin";
const TOK = "assets/stories260K/tok512.bin";
const convert = (...args: string[]) => lorascope("convert", "llama2c", ...args);

test("convert llama2c writes a Hugging Face Llama folder", async () => {
  const parent = await mkdtemp(path.join(tmpdir(), "lorascope-convert-"));
  const out = path.join(parent, "hf");
  const r = await convert("--checkpoint", CKPT, "--tokenizer", TOK, "--out", out);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /wrote .*hf: llama, 5 layers, hidden 64, 8 heads \(4 kv\), vocab 512, 47 tensors/);
  assert.deepEqual((await readdir(out)).sort(), [
    "config.json", "generation_config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json",
  ]);
  assert.deepEqual(await readdir(parent), ["hf"], "no temporary folder left beside it");
  const config = JSON.parse(await readFile(path.join(out, "config.json"), "utf8")) as Record<string, unknown>;
  assert.deepEqual(config, fixture.config);
  const { tensors, metadata } = await readSafetensors(path.join(out, "model.safetensors"));
  assert.deepEqual(metadata, { format: "pt" });
  const shapes = Object.fromEntries([...tensors].map(([k, t]) => [k, [...t.shape]]));
  assert.deepEqual(shapes, fixture.tensorShapes);
  assert.ok([...tensors.values()].every((t) => t.dtype === "F32"));
  const tokConfig = JSON.parse(await readFile(path.join(out, "tokenizer_config.json"), "utf8")) as Record<string, unknown>;
  assert.equal(tokConfig["clean_up_tokenization_spaces"], false);
  assert.equal(tokConfig["add_bos_token"], true);
  const tokJson = JSON.parse(await readFile(path.join(out, "tokenizer.json"), "utf8")) as { model: { byte_fallback: boolean; vocab: object } };
  assert.equal(tokJson.model.byte_fallback, true);
  assert.equal(Object.keys(tokJson.model.vocab).length, 512);

  // An empty existing folder is fine; a non-empty one is refused and left as it was.
  const empty = path.join(parent, "empty");
  await mkdir(empty);
  assert.equal((await convert("--checkpoint", CKPT, "--tokenizer", TOK, "--out", empty)).code, 0);
  const again = await convert("--checkpoint", CKPT, "--tokenizer", TOK, "--out", out);
  assert.equal(again.code, 2);
  assert.match(again.stderr, /^lorascope convert: .*hf is not empty \(5 entries\); give --out a new or empty folder so nothing is overwritten\n$/);
});

test("convert llama2c: bad input is one sentence and leaves nothing behind", async () => {
  const parent = await mkdtemp(path.join(tmpdir(), "lorascope-convert-bad-"));
  const bad = path.join(parent, "bad.bin");
  await writeFile(bad, (await readFile(CKPT)).subarray(0, 5000));
  const out = path.join(parent, "hf");
  const r = await convert("--checkpoint", bad, "--tokenizer", TOK, "--out", out);
  assert.equal(r.code, 1); // a bad file, found while running
  assert.match(r.stderr, /^lorascope convert: .*bad\.bin is not a llama2\.c checkpoint: .*needs 1056540 bytes but the file has 5000 \(truncated\?\)\n$/);
  assert.deepEqual(await readdir(parent), ["bad.bin"]);
  const missing = await convert("--checkpoint", path.join(parent, "nope.bin"), "--tokenizer", TOK, "--out", out);
  assert.match(missing.stderr, /the checkpoint .*nope\.bin does not exist/);
  const noOut = await convert("--checkpoint", CKPT, "--tokenizer", TOK);
  assert.match(noOut.stderr, /--out is required/);
  const noFormat = await lorascope("convert", "--checkpoint", CKPT, "--tokenizer", TOK, "--out", out);
  assert.match(noFormat.stderr, /convert takes one source format \(llama2c\), got none/);
  assert.deepEqual(await readdir(parent), ["bad.bin"]);
});

test("writeFolderAtomic: a write that fails midway leaves neither the folder nor its temporary", async () => {
  const parent = await mkdtemp(path.join(tmpdir(), "lorascope-folder-"));
  const files = new Map([["config.json", "{}"], ["missing-subfolder/x.json", "{}"]]);
  await assert.rejects(writeFolderAtomic(path.join(parent, "out"), files), /ENOENT/);
  assert.deepEqual(await readdir(parent), []);
  await writeFolderAtomic(path.join(parent, "out"), new Map([["config.json", "{}"]]));
  assert.deepEqual(await readdir(path.join(parent, "out")), ["config.json"]);
});
