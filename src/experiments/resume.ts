// A finetune's checkpoints and `--resume`, for every study (the sentence encoder, the causal LMs):
// OUT/checkpoint (train/checkpoint.ts) holds the trainable tensors, the optimizer state, the loop's
// state, the spec the run belongs to, the dynamics recorder's last measurement and the best adapter
// kept for early stopping; what the run recorded before its checkpoint (training losses, dynamics)
// comes back from metrics.jsonl, which the resumed run continues from the checkpoint's step.
import path from "node:path";
import { UserError } from "../core/errors.ts";
import type { LoopOptions, LoopState } from "../train/loop.ts";
import { checkpointDir, loadCheckpoint, saveCheckpoint } from "../train/checkpoint.ts";
import { METRICS_FILE, openMetrics, readMetrics, type MetricsSink } from "../train/metrics.ts";
import type { TrainState } from "../train/trainer.ts";
import type { DynamicsRecorder, ModuleDynamics } from "./dynamics.ts";

/** What every study's checkpoint meta holds; a study may add its own fields. */
export interface RunCheckpointMeta {
  readonly loop: LoopState;
  /** The spec the checkpoint belongs to, as canonical text (a resume under other settings is refused). */
  readonly spec: string;
}

const BEST = "best:";

export interface ResumedRun {
  readonly state: TrainState;
  readonly start: { readonly step: number; readonly loop: LoopState };
  /** The best adapter so far (early stopping), by path. */
  readonly best: Map<string, Float32Array> | undefined;
  /** Training losses up to the checkpoint. */
  readonly losses: number[];
  /** Dynamics measured up to the checkpoint. */
  readonly dynamics: ModuleDynamics[];
  /** metrics.jsonl, cut back to the checkpoint's step and open for appending. */
  readonly sink: MetricsSink;
}

/**
 * Continue OUT's checkpoint in the shapes of `fresh` (a fresh run's state, whose trainable leaves and
 * optimizer state it consumes); the recorder, when there is one, continues from its saved measurement.
 */
export async function resumeRun(
  out: string,
  fresh: TrainState,
  spec: string,
  recorder: DynamicsRecorder | undefined,
): Promise<ResumedRun> {
  if (checkpointDir(out) === undefined) throw new UserError(`${out} has no checkpoint to resume`);
  const ck = await loadCheckpoint<RunCheckpointMeta>(out, { trainable: fresh.trainable, optState: fresh.optState });
  if (ck.meta.spec !== spec) throw new UserError(`the checkpoint in ${out} belongs to other settings than ${path.join(out, "config.json")}`);
  recorder?.importState(new Map([...ck.host].filter(([k]) => !k.startsWith(BEST))));
  const kept = [...ck.host].filter(([k]) => k.startsWith(BEST));
  const past = readMetrics(path.join(out, METRICS_FILE)).filter((r) => r.step <= ck.step);
  return {
    state: { trainable: ck.trainable, frozen: fresh.frozen, optState: ck.optState, step: ck.step },
    start: { step: ck.step, loop: ck.meta.loop },
    best: kept.length === 0 ? undefined : new Map(kept.map(([k, v]) => [k.slice(BEST.length), Float32Array.from(v)])),
    losses: past.flatMap((r) => (typeof r["loss"] === "number" ? [r["loss"]] : [])),
    // A metrics line's dynamics may leave out the step its line already has.
    dynamics: past.flatMap((r) =>
      Array.isArray(r["dynamics"]) ? (r["dynamics"] as Array<Omit<ModuleDynamics, "step">>).map((d) => ({ step: r.step, ...d })) : [],
    ),
    sink: openMetrics(out, { resumeAt: ck.step }),
  };
}

/**
 * The loop's `checkpoint` option for a run writing to `out`: every `every` steps, or every minute
 * when absent. `meta` adds a study's own fields to the loop state and spec.
 */
export function checkpointing(
  out: string,
  every: number | undefined,
  spec: string,
  parts: {
    readonly recorder: DynamicsRecorder | undefined;
    readonly best: () => ReadonlyMap<string, Float32Array> | undefined;
    readonly meta?: (step: number) => Readonly<Record<string, unknown>>;
  },
): NonNullable<LoopOptions<TrainState>["checkpoint"]> {
  return {
    ...(every === undefined ? { seconds: 60 } : { every }),
    save: async (st, step, loop) => {
      const host = new Map(parts.recorder?.exportState() ?? []);
      for (const [p, v] of parts.best() ?? []) host.set(`${BEST}${p}`, Float64Array.from(v));
      const meta = { ...parts.meta?.(step), loop, spec };
      await saveCheckpoint(out, { step, trainable: st.trainable, optState: st.optState, meta, host });
    },
  };
}
