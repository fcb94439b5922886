// Kernel threads (src/engine/threads.ts): a 2-thread engine must compute exactly what the 1-thread
// engine computes. The thread count is fixed when the engine loads, so each count runs in its own
// child process (test/support/engine-threads-child.ts).
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const run = promisify(execFile);
const child = fileURLToPath(new URL("./support/engine-threads-child.ts", import.meta.url));
const script = `import { initEngine } from ${JSON.stringify(new URL("../src/engine/index.ts", import.meta.url).href)};`;

interface ChildResult { threads: number; workers: number; product: number[]; grad: number[]; loss: number }

async function engineRun(threads: string): Promise<ChildResult> {
  const env = { ...process.env, LORASCOPE_THREADS: threads };
  const { stdout } = await run(process.execPath, ["--import", "tsx", child], {
    env,
    timeout: 60_000,
    maxBuffer: 64 << 20,
  });
  return JSON.parse(stdout) as ChildResult;
}

test("a 2-thread engine gives the 1-thread engine's matmul and gradient, bit for bit", async () => {
  const [one, two] = await Promise.all([engineRun("1"), engineRun("2")]);
  assert.equal(one.threads, 1);
  assert.equal(one.workers, 0, "the 1-thread engine runs kernels on the calling thread");
  assert.equal(two.threads, 2);
  assert.equal(two.workers, 2, "the 2-thread engine started its worker pool");
  assert.equal(one.product.length, 200 * 328);
  // Workers split a kernel's output rows; each element is summed in the same order, so exact.
  assert.deepEqual(two.product, one.product);
  assert.deepEqual(two.grad, one.grad);
  assert.equal(two.loss, one.loss);
  assert.ok(one.product.some((v) => Math.abs(v) > 0.1), "the product is not trivially zero");
});

test("initEngine({threads}) refuses a count other than the one the engine loaded with", async () => {
  const code = `${script}
try { await initEngine({ threads: 2 }); console.log("started"); } catch (e) { console.log(e.message); }`;
  const env = { ...process.env, LORASCOPE_THREADS: "1" };
  const { stdout } = await run(process.execPath, ["--import", "tsx", "--input-type=module", "-e", code], {
    env,
    timeout: 30_000,
  });
  assert.match(stdout, /loaded with 1 thread\(s\) and cannot switch to 2: start the process with LORASCOPE_THREADS=2/);
});

test("a bad LORASCOPE_THREADS is refused when the engine loads", async () => {
  const env = { ...process.env, LORASCOPE_THREADS: "two" };
  await assert.rejects(
    run(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], { env, timeout: 30_000 }),
    /threads must be a positive integer or "auto", got two/,
  );
});
