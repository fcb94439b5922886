// llama2.c checkpoints and tokenizers: the header and tensor layout of the bundled stories260K, the
// RoPE row permutation (index math by hand, and the rotation it must commute with), token ids and
// decoded text against transformers on the converted folder (scripts/fixtures/make_stories260k_fixtures.py),
// the sha256 pins, and bad files.
import { test } from "node:test";
import assert from "node:assert/strict";
import { copyFile, mkdtemp, readdir, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { UserError } from "../src/core/errors.ts";
import { interleavedToHalves, llamaTensorNames, readLlama2cCheckpoint, readLlama2cHeader } from "../src/io/llama2c.ts";
import { bpeMerges, readLlama2cTokenizer } from "../src/io/llama2c-tokenizer.ts";
import { loadStories260K, STORIES260K_DIR } from "../src/io/stories260k.ts";
import { convertLlama2cFiles, hfFolderFiles } from "../src/io/convert-llama2c.ts";
import fixture from "./fixtures/lm/stories260k.json" with { type: "json" };

const CKPT = path.join(STORIES260K_DIR, "stories260K.bin");
const TOK = path.join(STORIES260K_DIR, "tok512.bin");
const model = loadStories260K();

test("interleavedToHalves moves row 2i+j of each head to j·half+i", () => {
  // 2 heads of size 4, one column: head rows (0 1 2 3) hold the pairs (0,1) and (2,3); rotate-half
  // wants the pairs' first members first: (0 2 1 3).
  const w = Float32Array.from([0, 1, 2, 3, 4, 5, 6, 7]);
  assert.deepEqual([...interleavedToHalves(w, 2, 4, 1)], [0, 2, 1, 3, 4, 6, 5, 7]);
  // Whole rows move together: [rows 4, cols 2].
  const w2 = Float32Array.from([0, 0.5, 1, 1.5, 2, 2.5, 3, 3.5]);
  assert.deepEqual([...interleavedToHalves(w2, 1, 4, 2)], [0, 0.5, 2, 2.5, 1, 1.5, 3, 3.5]);
  assert.throws(() => interleavedToHalves(new Float32Array(6), 1, 3, 2));
});

/** llama2.c run.c RoPE on one head: pairs (2i, 2i+1) rotated by pos·θ^(-2i/hd). */
function ropeInterleaved(v: number[], pos: number): number[] {
  const out = [...v];
  for (let i = 0; 2 * i < v.length; i++) {
    const a = pos * Math.pow(10000, (-2 * i) / v.length);
    const [x, y] = [v[2 * i] as number, v[2 * i + 1] as number];
    out[2 * i] = x * Math.cos(a) - y * Math.sin(a);
    out[2 * i + 1] = x * Math.sin(a) + y * Math.cos(a);
  }
  return out;
}

/** HF Llama `apply_rotary_pos_emb` on one head: x·cos + rotate_half(x)·sin, pairs (i, i + hd/2). */
function ropeHalves(v: number[], pos: number): number[] {
  const half = v.length / 2;
  return v.map((x, r) => {
    const i = r % half;
    const a = pos * Math.pow(10000, (-2 * i) / v.length);
    const rot = r < half ? -(v[r + half] as number) : (v[r - half] as number);
    return x * Math.cos(a) + rot * Math.sin(a);
  });
}

test("the permutation commutes with RoPE: HF's rotation of permuted rows = permuted llama2.c rotation", () => {
  const hd = 8;
  const v = Array.from({ length: hd }, (_, i) => Math.sin(3.7 * i + 1) * 2);
  const perm = (x: number[]): number[] => [...interleavedToHalves(Float32Array.from(x), 1, hd, 1)];
  for (const pos of [0, 1, 5, 511]) {
    const a = ropeHalves(perm(v), pos);
    const b = perm(ropeInterleaved(v, pos).map((x) => Math.fround(x)));
    a.forEach((x, i) => assert.ok(Math.abs(x - (b[i] as number)) < 1e-5, `pos ${pos} row ${i}: ${x} vs ${b[i]}`));
  }
  // Without the permutation the two rotations disagree, so the test above can fail.
  const wrong = ropeHalves(v, 5);
  assert.ok(wrong.some((x, i) => Math.abs(x - (ropeInterleaved(v, 5)[i] as number)) > 1e-3));
});

test("stories260K: header, config and HF tensor names and shapes", async () => {
  const h = readLlama2cHeader(await readFile(CKPT), CKPT);
  assert.deepEqual(h, {
    dim: 64,
    hiddenDim: 172,
    nLayers: 5,
    nHeads: 8,
    nKvHeads: 4,
    vocabSize: 512,
    seqLen: 512,
    tied: true,
  });
  const c = model.config;
  assert.equal(c.model_type, "llama");
  assert.equal(c.tie_word_embeddings, true);
  assert.equal(c.head_dim, 8);
  assert.deepEqual(c, fixture.config, "config.json as transformers read it back");
  assert.deepEqual([...model.tensors.keys()], llamaTensorNames(c));
  assert.ok(!model.tensors.has("lm_head.weight"), "tied: no lm_head.weight");
  const shapes = Object.fromEntries([...model.tensors].map(([k, t]) => [k, [...t.shape]]));
  assert.deepEqual(shapes, fixture.tensorShapes);
  assert.deepEqual(shapes["model.layers.4.self_attn.k_proj.weight"], [32, 64]);
  assert.deepEqual(shapes["model.layers.0.mlp.down_proj.weight"], [64, 172]);
  const params = [...model.tensors.values()].reduce((n, t) => n + t.data.length, 0);
  assert.equal(params, 260_032);
});

test("stories260K: tensors come from the right file offsets", async () => {
  const bytes = await readFile(CKPT);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const f = (i: number): number => view.getFloat32(28 + 4 * i, true);
  const V = 512, D = 64, L = 5, KV = 32, H = 172;
  const t = (name: string): Float32Array => (model.tensors.get(name) as { data: Float32Array }).data;
  assert.equal(t("model.embed_tokens.weight")[D * 7 + 3], f(D * 7 + 3));
  // rms_att of layer 2, element 5: after the embedding.
  assert.equal(t("model.layers.2.input_layernorm.weight")[5], f(V * D + 2 * D + 5));
  // wv of layer 3 [KV, D], element (row 9, col 11): after embedding, rms_att, wq, wk.
  const wvAt = V * D + L * D + L * D * D + L * KV * D + 3 * KV * D + 9 * D + 11;
  assert.equal(t("model.layers.3.self_attn.v_proj.weight")[9 * D + 11], f(wvAt));
  // wq of layer 0, head 1, llama2.c row 2·1+1 = 3 → HF row 1·4+1 = 5 within the head (row 8+5 = 13).
  assert.equal(t("model.layers.0.self_attn.q_proj.weight")[13 * D + 2], f(V * D + L * D + (8 + 3) * D + 2));
  // rms_final: after the three FFN stacks.
  const finalAt = V * D + L * (2 * D + 2 * D * D + 2 * KV * D + 3 * H * D);
  assert.equal(t("model.norm.weight")[63], f(finalAt + 63));
});

test("tokenizer: ids, pieces and decoded text equal transformers' on the converted folder", () => {
  const tok = model.tokenizer;
  assert.equal(tok.vocabSize, 512);
  assert.equal(tok.bosId, 1);
  assert.equal(tok.eosId, 2);
  for (const s of fixture.strings) {
    assert.deepEqual(tok.encode(s.text), s.ids, `ids of ${JSON.stringify(s.text)}`);
    assert.deepEqual(tok.tokens(s.text), s.tokens, `pieces of ${JSON.stringify(s.text)}`);
    assert.equal(tok.decode(s.ids), s.decoded, `decode of ${JSON.stringify(s.text)}`);
    assert.equal(tok.decode(s.ids, { skipSpecialTokens: true }), s.decodedSkipSpecial);
  }
  assert.equal(tok.decode(fixture.greedy.ids, { skipSpecialTokens: true }), fixture.greedy.text);
  assert.ok(fixture.greedy.text.startsWith("Once upon a time, there was a little girl named Lily. She loved to play outside in the park."));
});

test("BPE merges are ordered by the merged piece's score, not by id", () => {
  const p = (piece: string, score: number) => ({ piece, score });
  const bytePieces = Array.from({ length: 256 }, (_, b) => p(`<0x${b.toString(16).toUpperCase().padStart(2, "0")}>`, 0));
  const pieces = [p("<unk>", 0), p("<s>", 0), p("</s>", 0), ...bytePieces, p("ab", -5), p("bc", -1), p("abc", -3), p("a", -10), p("b", -11), p("c", -12)];
  // "abc" splits as ab+c and a+bc (both in the vocabulary); ordered by the halves' ids.
  assert.deepEqual(bpeMerges(pieces), [["b", "c"], ["ab", "c"], ["a", "bc"], ["a", "b"]]);
});

test("stories260K: a file that does not match its sha256 pin is refused", async () => {
  const dir = await mkdtemp(path.join(tmpdir(), "lorascope-pin-"));
  await copyFile(TOK, path.join(dir, "tok512.bin"));
  const bytes = await readFile(CKPT);
  bytes[1000] = (bytes[1000] as number) ^ 1;
  await writeFile(path.join(dir, "stories260K.bin"), bytes);
  assert.throws(() => loadStories260K(dir), (e: unknown) => e instanceof UserError && /stories260K\.bin has sha256 .*expected b0a507e7ad0f/.test(e.message));
});

test("bad checkpoints and tokenizers: one sentence naming the file", async () => {
  const ckpt = await readFile(CKPT);
  const tok = await readFile(TOK);
  const rejects = (fn: () => unknown, pattern: RegExp): void =>
    assert.throws(fn, (e: unknown) => e instanceof UserError && pattern.test(e.message) && !e.message.includes("\n"));
  rejects(() => readLlama2cCheckpoint(ckpt.subarray(0, ckpt.length - 100), "m.bin"), /^m\.bin is not a llama2\.c checkpoint: .*needs 1056540 bytes but the file has 1056440 \(truncated\?\)/);
  rejects(() => readLlama2cCheckpoint(Buffer.concat([ckpt, Buffer.alloc(4)]), "m.bin"), /needs 1056540 bytes but the file has 1056544$/);
  rejects(() => readLlama2cCheckpoint(ckpt.subarray(0, 10), "m.bin"), /m\.bin .*shorter than the 28-byte header/);
  const versioned = Buffer.from(ckpt);
  versioned.writeUInt32LE(0x616b3432, 0);
  versioned.writeInt32LE(1, 4);
  rejects(() => readLlama2cCheckpoint(versioned, "v1.bin"), /v1\.bin .*versioned export \(version 1\)/);
  const zeroHeads = Buffer.from(ckpt);
  zeroHeads.writeInt32LE(0, 12);
  rejects(() => readLlama2cCheckpoint(zeroHeads, "m.bin"), /n_heads = 0/);
  rejects(() => readLlama2cCheckpoint(new Uint8Array(tok), "tok512.bin"), /^tok512\.bin is not a llama2\.c checkpoint/);
  rejects(() => readLlama2cTokenizer(tok.subarray(0, tok.length - 3), "t.bin"), /^t\.bin is not a llama2\.c tokenizer file: token 511 needs \d+ bytes but the file ends first/);
  rejects(() => readLlama2cTokenizer(tok, "t.bin", 600), /t\.bin .*512 pieces but the checkpoint's vocab_size is 600/);
  rejects(() => readLlama2cTokenizer(ckpt, "m.bin"), /^m\.bin is not a llama2\.c tokenizer file/);
});

test("convert by offset writes the same bytes as the in-memory conversion; a cut file is one sentence", async () => {
  const dir = await mkdtemp(path.join(tmpdir(), "lorascope-llama2c-"));
  const out = path.join(dir, "hf");
  const r = await convertLlama2cFiles(CKPT, TOK, out);
  assert.equal(r.tensors, 47);
  for (const [name, want] of hfFolderFiles(loadStories260K())) {
    const got = await readFile(path.join(out, name));
    assert.ok(Buffer.compare(got, Buffer.from(want)) === 0, `${name} differs from the in-memory conversion`);
  }
  const ckpt = await readFile(CKPT);
  const cut = path.join(dir, "cut.bin");
  await writeFile(cut, ckpt.subarray(0, ckpt.length - 4096));
  await assert.rejects(
    convertLlama2cFiles(cut, TOK, path.join(dir, "never")),
    (e: unknown) => e instanceof UserError && /^\S+cut\.bin is not a llama2\.c checkpoint: .*needs 1056540 bytes but the file has 1052444 \(truncated\?\)$/.test(e.message),
  );
  await assert.rejects(convertLlama2cFiles(path.join(dir, "absent.bin"), TOK, path.join(dir, "never")), /the checkpoint .*absent\.bin does not exist/);
  assert.deepEqual((await readdir(dir)).sort(), ["cut.bin", "hf"], "a refused file leaves no folder");
});
