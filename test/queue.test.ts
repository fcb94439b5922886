// Sweeps on a Redis job queue (src/experiments/queue/), against a real redis-server started for
// the test: a tiny toy sweep through the queue with two worker processes gives the local run's rows
// byte for byte and its analysis; a worker SIGKILLed mid-job loses nothing and duplicates nothing;
// an unreachable queue is one sentence and exit 1; a job from another version is refused and stays.
import { test, after, before } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Queue } from "bullmq";
import { reproduceConfig } from "../src/cli/commands/reproduce.ts";
import { analyzeSweep, summaryJson } from "../src/analysis/index.ts";
import { runToySweep } from "../src/experiments/toy/runner.ts";
import { runId } from "../src/experiments/toy/rows.ts";
import { gridRuns } from "../src/experiments/toy/grid.ts";
import { QUEUE_NAME } from "../src/experiments/queue/connection.ts";
import { parseQueueUrl } from "../src/experiments/queue/url.ts";
import { UserError } from "../src/core/errors.ts";
import { CLI_ARGS, lorascope } from "./support/cli.ts";
import { freePort, redisServer, startRedis, type TestRedis } from "./support/redis.ts";

const bin = redisServer();
const skip = bin === undefined ? "redis-server is not installed (apt-get install redis-server, as `npm test` does when it can)" : false;
let redis: TestRedis | undefined;
const tmp = mkdtempSync(path.join(tmpdir(), "lorascope-queue-"));

before(async () => {
  if (bin !== undefined) redis = await startRedis(bin);
});
after(async () => {
  await redis?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

const url = () => (redis as TestRedis).url;

/** A `lorascope worker` process whose stderr lines are kept, with a way to wait for one. */
interface Worker {
  readonly child: ChildProcess;
  readonly lines: string[];
  waitFor(re: RegExp, ms?: number): Promise<string>;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

function startWorker(...args: string[]): Worker {
  const child = spawn(process.execPath, [...CLI_ARGS, "worker", "--queue", url(), ...args], { stdio: ["ignore", "ignore", "pipe"] });
  const lines: string[] = [];
  const waiters: Array<{ re: RegExp; resolve: (l: string) => void }> = [];
  let rest = "";
  child.stderr?.on("data", (d: Buffer) => {
    const parts = (rest + d.toString()).split("\n");
    rest = parts.pop() ?? "";
    for (const l of parts) {
      lines.push(l);
      for (const w of [...waiters]) if (w.re.test(l)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(l);
      }
    }
  });
  return {
    child,
    lines,
    waitFor(re, ms = 120_000) {
      const seen = lines.find((l) => re.test(l));
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`no line matching ${re} within ${ms} ms:\n${lines.join("\n")}`)), ms);
        waiters.push({ re, resolve: (l) => (clearTimeout(t), resolve(l)) });
      });
    },
    async stop(signal = "SIGTERM") {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once("exit", r));
      child.kill(signal);
      await exited;
    },
  };
}

/** Every file of OUT/runs with its text. */
function rowFiles(out: string): Record<string, string> {
  const dir = path.join(out, "runs");
  return Object.fromEntries(readdirSync(dir).sort().map((f) => [f, readFileSync(path.join(dir, f), "utf8")]));
}

/** How many jobs the queue holds in each state. */
async function queueCounts(): Promise<Record<string, number>> {
  const q = new Queue(QUEUE_NAME, { connection: { host: "127.0.0.1", port: (redis as TestRedis).port } });
  try {
    const c = await q.getJobCounts("waiting", "active", "delayed", "completed", "failed");
    return { waiting: c["waiting"] ?? -1, active: c["active"] ?? -1, delayed: c["delayed"] ?? -1, completed: c["completed"] ?? -1, failed: c["failed"] ?? -1 };
  } finally {
    await q.close();
  }
}

/** A handful of (width, seed) jobs of a few steps each. */
const tiny = (widths = "8,16", steps = 20) => ["--widths", widths, "--lrs", "2^-8:2^-4:3", "--seeds", "2", "--steps", String(steps), "--rank", "2", "--log-every", "5"];
const TINY = tiny();

test("the queue URL: forms accepted, mistakes named", () => {
  assert.deepEqual(parseQueueUrl("redis://127.0.0.1:6379"), { host: "127.0.0.1", port: 6379, db: 0, tls: false, shown: "redis://127.0.0.1:6379/0" });
  const t = parseQueueUrl("rediss://user:p%40ss@example.org:7000/3");
  assert.equal(t.password, "p@ss");
  assert.equal(t.username, "user");
  assert.equal(t.tls, true);
  assert.equal(t.db, 3);
  assert.ok(!t.shown.includes("p@ss"), "messages never show the password");
  assert.equal(parseQueueUrl("redis://host").port, 6379);
  for (const [bad, why] of [["http://h:1", /redis:\/\/ or rediss:\/\//], ["h:1", /redis:\/\/ or rediss:\/\//], ["nope", /not a URL/], ["redis://h:1/x", /database/], ["redis://h:1/99", /database/]] as const) {
    assert.throws(() => parseQueueUrl(bad), (e: unknown) => e instanceof UserError && why.test(e.message), bad);
  }
});

test("a bad --queue is a usage error before any work", async () => {
  const out = path.join(tmp, "bad-url");
  const r = await lorascope("reproduce", ...TINY, "--queue", "http://127.0.0.1:1", "-o", out);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /--queue must be a redis:\/\/ or rediss:\/\/ URL/);
  const s = await lorascope("reproduce", ...TINY, "--queue", url(), "--save-state", "-o", out);
  assert.equal(s.code, 2);
  assert.match(s.stderr, /cannot be used with --queue/);
});

test("an unreachable queue: one sentence, exit 1, within seconds (reproduce and worker)", { skip }, async () => {
  const dead = `redis://127.0.0.1:${await freePort()}`;
  for (const args of [["reproduce", ...TINY, "--queue", dead, "--json", "-o", path.join(tmp, "dead")], ["worker", "--queue", dead]]) {
    const t0 = performance.now();
    const r = await lorascope(...args);
    const seconds = (performance.now() - t0) / 1000;
    assert.equal(r.code, 1, r.stderr);
    const lines = r.stderr.trim().split("\n");
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0] as string, /the queue at redis:\/\/127\.0\.0\.1:\d+\/0 cannot be reached \(ECONNREFUSED\)/);
    // Node's start-up and the tsx compile take most of it on a loaded machine; the connect gives up at once.
    assert.ok(seconds < 30, `${args[0]} took ${seconds.toFixed(1)} s`);
  }
});

test("a toy sweep through the queue with two workers equals the local run, number for number", { skip, timeout: 600_000 }, async () => {
  const qOut = path.join(tmp, "queued");
  // Queued with no worker yet, then interrupted: the jobs stay in the queue.
  const first = spawn(process.execPath, [...CLI_ARGS, "reproduce", ...TINY, "--queue", url(), "-o", qOut], { stdio: "ignore" });
  const firstExit = new Promise<number | null>((r) => first.once("exit", (code) => r(code)));
  const jobs = 4; // 2 widths × 2 seeds
  for (let t = 0; ((await queueCounts())["waiting"] ?? 0) < jobs; t++) {
    assert.ok(t < 1200, "the sweep queued its jobs");
    await new Promise((r) => setTimeout(r, 100));
  }
  first.kill("SIGINT");
  assert.equal(await firstExit, 130);
  assert.equal((await queueCounts())["waiting"], jobs, "Ctrl-C leaves the jobs queued");

  const workers = [startWorker("--lock-seconds", "120"), startWorker("--lock-seconds", "120")];
  try {
    // The rerun enqueues nothing twice and collects the results as the two workers finish them.
    const r = await lorascope("reproduce", ...TINY, "--queue", url(), "--json", "-o", qOut);
    assert.equal(r.code, 0, r.stderr);
    const { report: _report, ...queued } = JSON.parse(r.stdout) as Record<string, unknown>;

    const { spec } = await reproduceConfig(TINY);
    const lOut = path.join(tmp, "local");
    const local = await runToySweep(spec, lOut, { workers: 1 });
    assert.deepEqual(rowFiles(qOut), rowFiles(lOut), "the same row files, byte for byte");
    assert.deepEqual(queued, JSON.parse(JSON.stringify(summaryJson(analyzeSweep(local.rows)))), "the same analysis");
    const ran = workers.flatMap((w) => w.lines.filter((l) => /ran toy-/.test(l)));
    assert.equal(ran.length, jobs, `each job ran once:\n${ran.join("\n")}`);
    for (const w of workers) assert.ok(w.lines.some((l) => /ran toy-/.test(l)), `each worker ran jobs:\n${w.lines.join("\n")}`);
    assert.deepEqual(await queueCounts(), { waiting: 0, active: 0, delayed: 0, completed: 0, failed: 0 }, "results collected, nothing left");
  } finally {
    await Promise.all(workers.map((w) => w.stop()));
  }
});

test("a worker SIGKILLed mid-job: the sweep completes, nothing lost, nothing duplicated", { skip, timeout: 600_000 }, async () => {
  const { spec } = await reproduceConfig(tiny("8,16,32", 40));
  const out = path.join(tmp, "killed");
  // A short lock, so that the killed worker's job is taken over within seconds; long enough that a
  // job's first steps (the engine's compile on a loaded machine) never hold a live worker's lock past it.
  const a = startWorker("--lock-seconds", "8");
  let b: Worker | undefined;
  try {
    await a.waitFor(/waiting for jobs/);
    const sweep = runToySweep(spec, out, { queue: parseQueueUrl(url()) });
    const running = await a.waitFor(/running toy-/);
    a.child.kill("SIGKILL");
    const killedJob = running.replace(/.*running /, "");
    b = startWorker("--lock-seconds", "8");
    const result = await sweep;
    assert.ok(b.lines.some((l) => l.endsWith(`running ${killedJob}`)), `the killed job was taken over:\n${b.lines.join("\n")}`);
    const finals = result.rows.filter((r) => r.kind === "final").map(runId);
    assert.deepEqual([...finals].sort(), gridRuns(spec).map(runId).sort(), "every run has exactly one final row");
    // Step rows at 0, 5, …, 40 for each run, once each (the number-for-number check is the test above).
    const steps = result.rows.flatMap((r) => (r.kind === "step" ? [`${runId(r)}@${r.step}`] : []));
    assert.equal(new Set(steps).size, steps.length, "no step row twice");
    assert.equal(steps.length, gridRuns(spec).length * (40 / 5 + 1), "no step row missing");
    assert.deepEqual(await queueCounts(), { waiting: 0, active: 0, delayed: 0, completed: 0, failed: 0 });
  } finally {
    await a.stop("SIGKILL");
    await b?.stop();
  }
});

test("a worker of another version refuses a job with one sentence, and the job stays queued", { skip, timeout: 120_000 }, async () => {
  const q = new Queue(QUEUE_NAME, { connection: { host: "127.0.0.1", port: (redis as TestRedis).port } });
  const w = startWorker();
  try {
    const { spec } = await reproduceConfig(TINY);
    await q.add("x", { study: "toy", settingsHash: "000000000000", version: "0.0.0-other", payload: { spec, job: { width: 8, seed: 0, runs: [] } } }, { jobId: "toy-other-version" });
    const line = await w.waitFor(/refused/);
    assert.match(line, /refused job toy-other-version: it was made by lorascope 0\.0\.0-other and this worker is \d+\.\d+\.\d+/);
    const state = await q.getJobState("toy-other-version");
    assert.ok(["delayed", "waiting"].includes(state), `left for a matching worker (${state})`);
    assert.ok(!w.lines.some((l) => /running toy-other-version/.test(l)));
  } finally {
    await w.stop();
    await q.obliterate({ force: true });
    await q.close();
  }
});
