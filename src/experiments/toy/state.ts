// Replay files of the toy sweep (`reproduce --save-state`): everything another framework needs to
// redo a run step for step — frozen weights, data, initial and final factors, and the full spec.
// The layout, tensor names and update formulas are documented in docs/replay.md.
//
//   OUT/state/n<width>_s<seed>/base.safetensors   frozen student (shared by every run of the job)
//   OUT/state/n<width>_s<seed>/data.safetensors   task A, task B train and test data (shared)
//   OUT/state/<run id>/adapter_init.safetensors   A₀, B₀ (PEFT keys)
//   OUT/state/<run id>/adapter_model.safetensors  final A, B  } a PEFT adapter directory
//   OUT/state/<run id>/adapter_config.json                    }
//   OUT/state/<run id>/run.json                    spec, shared-file paths, final metrics — written
//                                                  last, so its presence marks a complete folder
//
// The base and data depend only on (width, seed) (models/toy.ts folds them from the seed's key), so
// they are written once per job rather than once per run: at n = 4096 W_h alone is 64 MiB.
import fs from "node:fs";
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { tensor } from "../../engine/index.ts";
import { saveAdapter, writeFileAtomic, writeSafetensors, type WriteTensor } from "../../io/index.ts";
import { loraConfig } from "../../lora/config.ts";
import { finiteJson } from "../store.ts";
import type { RunKey } from "./rows.ts";
import type { ToyJob, ToyJobResult } from "./job.ts";
import { protocolHash, type ToySpec } from "./spec.ts";

/** Replay-format version written into run.json; bump when a name, shape or rule changes. */
export const REPLAY_FORMAT = "lorascope-toy-replay/1";

/** Module path of the LoRA-wrapped layer: the student's hidden linear map W_h (base key `hidden.weight`). */
export const TOY_LORA_MODULE = "hidden";

export function stateDir(outDir: string): string {
  return path.join(outDir, "state");
}

/** Folder name of the files shared by one (width, seed): `n64_s1`. */
export function sharedStateId(width: number, seed: number): string {
  return `n${width}_s${seed}`;
}

/**
 * Filesystem-safe folder name of one run: `init-a_n64_lr4.88281e-4_s1`. The learning rate keeps six
 * significant digits, as rows.ts `runId` does, so two learning rates with one row id share one folder.
 */
export function stateRunId(k: RunKey): string {
  return `${k.init}_n${k.width}_lr${k.lr.toExponential(5).replace("+", "")}_s${k.seed}`;
}

/** True when the run's folder is complete (run.json present) and was written under this protocol. */
export function hasToyState(outDir: string, protocol: string, k: RunKey): boolean {
  const file = path.join(stateDir(outDir), stateRunId(k), "run.json");
  try {
    const meta = JSON.parse(fs.readFileSync(file, "utf8")) as { protocolHash?: unknown };
    return meta.protocolHash === protocol;
  } catch {
    return false;
  }
}


const INIT_DESCRIPTIONS: Record<string, string> = {
  "init-a": "A ~ U(-1/sqrt(n), 1/sqrt(n)), B = 0 (Init[A])",
  "init-b": "A = 0, B ~ U(-1/sqrt(r), 1/sqrt(r)) (Init[B])",
  gaussian: "A ~ N(0, (1/r)^2), B = 0",
  "gaussian-b": "A = 0, B ~ N(0, (1/r)^2)",
  orthogonal: "A, B from a random orthogonal r x r matrix (even/odd rows), B·A = 0",
};

function optimizerJson(spec: ToySpec, lr: number): Record<string, unknown> {
  switch (spec.optimizer) {
    case "adam":
      return {
        name: "adam",
        lr,
        betas: [spec.beta1, spec.beta2],
        eps: spec.eps,
        weight_decay: 0,
        amsgrad: false,
        state_init: "m = v = 0",
        update:
          "torch.optim.Adam (1.13): m = b1*m + (1-b1)*g; v = b2*v + (1-b2)*g^2; p -= lr * (m/(1-b1^t)) / (sqrt(v/(1-b2^t)) + eps), t = 1, 2, ...",
      };
    case "signsgd":
      return { name: "signsgd", lr, update: "p -= lr * sign(g), sign(0) = 0" };
    case "sgd":
      return { name: "sgd", lr, momentum: 0, weight_decay: 0, update: "p -= lr * g" };
    default: {
      const never: never = spec.optimizer;
      throw new Error(`unknown optimizer ${String(never)}`);
    }
  }
}

/**
 * Write the replay files of every run of a finished job under `outDir`/state. Each file is written
 * atomically (temp + rename) and run.json last, so a killed writer leaves no folder that looks done.
 */
export async function writeToyJobState(
  outDir: string,
  spec: ToySpec,
  job: ToyJob,
  result: ToyJobResult,
): Promise<void> {
  const n = job.width;
  const d = spec.inputDim;
  const { base, tasks } = result;
  const shared = sharedStateId(n, job.seed);
  const sharedDir = path.join(stateDir(outDir), shared);
  await mkdir(sharedDir, { recursive: true });
  const meta = { metadata: { format: "pt" } };
  await writeSafetensors(
    path.join(sharedDir, "base.safetensors"),
    [
      ["input.weight", { shape: [n, d], data: base.wIn }], // W_in, nn.Linear(d, n) layout [out, in]
      ["hidden.weight", { shape: [n, n], data: base.wH }], // W_h, nn.Linear(n, n)
      ["readout.weight", { shape: [1, n], data: base.w }], // w, nn.Linear(n, 1)
    ],
    meta,
  );
  const N = spec.nTrain;
  const t = (data: Float32Array, shape: number[]): WriteTensor => ({ shape, data });
  await writeSafetensors(
    path.join(sharedDir, "data.safetensors"),
    [
      ["train.x", t(tasks.xB.subarray(0, N * d), [N, d])],
      ["train.y", t(tasks.yB.subarray(0, N), [N])],
      ["test.x", t(tasks.xB.subarray(N * d), [spec.nTest, d])],
      ["test.y", t(tasks.yB.subarray(N), [spec.nTest])],
      ["task_a.x", t(tasks.xA, [N, d])],
      ["task_a.y", t(tasks.yA, [N])],
    ],
    meta,
  );

  const protocol = protocolHash(spec);
  const prefix = `base_model.model.${TOY_LORA_MODULE}`;
  for (const [i, run] of job.runs.entries()) {
    const key: RunKey = { width: n, seed: job.seed, init: run.init, lr: run.lr };
    const id = stateRunId(key);
    const dir = path.join(stateDir(outDir), id);
    await mkdir(dir, { recursive: true });
    const start = result.adapters[i];
    const res = result.results[i];
    if (start === undefined || res === undefined) throw new Error(`job result has no run ${i}`);
    await writeSafetensors(
      path.join(dir, "adapter_init.safetensors"),
      [
        [`${prefix}.lora_A.weight`, t(start.A0, [spec.r, n])],
        [`${prefix}.lora_B.weight`, t(start.B0, [n, spec.r])],
      ],
      meta,
    );
    const config = loraConfig({
      r: spec.r,
      lora_alpha: spec.alpha,
      target_modules: [TOY_LORA_MODULE],
      init_lora_weights: run.init,
    });
    const A = tensor(res.A, [spec.r, n]);
    const B = tensor(res.B, [n, spec.r]);
    try {
      await saveAdapter(dir, { [TOY_LORA_MODULE]: { lora_A: { weight: A }, lora_B: { weight: B } } }, config);
    } finally {
      A.dispose();
      B.dispose();
    }
    const runJson = {
      format: REPLAY_FORMAT,
      runId: id,
      protocolHash: protocol,
      run: key,
      files: {
        base: `../${shared}/base.safetensors`,
        data: `../${shared}/data.safetensors`,
        adapter_init: "adapter_init.safetensors",
        adapter_final: "adapter_model.safetensors",
        adapter_config: "adapter_config.json",
      },
      model: {
        inputDim: d,
        width: n,
        r: spec.r,
        lora_alpha: spec.alpha,
        scaling: spec.alpha / spec.r,
        lora_module: TOY_LORA_MODULE,
        forward: "h = relu(x W_in^T); u = h W_h^T + s (h A^T) B^T; yhat = relu(u) w^T",
      },
      init: { scheme: run.init, scaling: spec.alpha / spec.r, distribution: INIT_DESCRIPTIONS[run.init] ?? run.init },
      loss: "mean over the batch of (yhat - y)^2 (no 1/2)",
      optimizer: optimizerJson(spec, run.lr),
      training: {
        steps: spec.steps,
        batch: "full: every step uses all train.x / train.y rows, in stored order",
        nTrain: spec.nTrain,
        nTest: spec.nTest,
        trainable: ["lora_A", "lora_B"],
        divergeFactor: spec.divergeFactor,
        stopRule:
          "before the update of step t, if loss(params) is not finite or exceeds divergeFactor * initial train loss, or if the update would make A or B non-finite, the run stops and keeps its current params",
      },
      spec,
      final: res.final,
    };
    await writeFileAtomic(path.join(dir, "run.json"), finiteJson(runJson, 2) + "\n");
  }
}
