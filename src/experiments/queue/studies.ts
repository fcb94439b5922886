// How a queue worker runs each study's jobs: the same per-job function the local worker processes
// call (toy/job.ts, encoder/sweep.ts), returning the row file's text instead of writing it. Each
// study also recomputes the settings hash from the job it received, with this worker's code: a job
// made by a lorascope whose settings mean something else does not hash the same, and is refused.
// A study added to the queue (the language-model sweep) adds its entry here and its name to jobs.ts.
import { rowLines } from "../store.ts";
import { QUEUE_STUDIES, type QueueStudyName } from "./jobs.ts";
import type { ToySpec } from "../toy/spec.ts";
import type { ToyJob } from "../toy/job.ts";
import type { EncoderFinetuneSpec } from "../encoder/spec.ts";

/** A toy job on the queue: the sweep's spec and one (width, seed) group of runs. */
export interface ToyQueuePayload {
  readonly spec: ToySpec;
  readonly job: ToyJob;
}

interface QueueStudy {
  /** The settings hash of `payload` by this worker's code. */
  hash(payload: unknown): Promise<string>;
  /** Run the job; the text of its row file. */
  run(payload: unknown): Promise<string>;
}

const STUDIES: Record<QueueStudyName, QueueStudy> = {
  toy: {
    async hash(payload) {
      const { protocolHash } = await import("../toy/spec.ts");
      return protocolHash((payload as ToyQueuePayload).spec);
    },
    async run(payload) {
      const { spec, job } = payload as ToyQueuePayload;
      const { runToyJob } = await import("../toy/job.ts");
      return rowLines((await runToyJob(spec, job)).rows);
    },
  },
  encoder: {
    async hash(payload) {
      const { encoderSpec } = await import("../encoder/spec.ts");
      const { cellHash } = await import("../encoder/sweep.ts");
      return cellHash(encoderSpec(payload as EncoderFinetuneSpec));
    },
    async run(payload) {
      const { sweepRow } = await import("../encoder/sweep.ts");
      return rowLines([await sweepRow(payload as EncoderFinetuneSpec)]);
    },
  },
};

export function isQueueStudy(name: unknown): name is QueueStudyName {
  return typeof name === "string" && (QUEUE_STUDIES as readonly string[]).includes(name);
}

export function queueStudy(name: QueueStudyName): QueueStudy {
  return STUDIES[name];
}
