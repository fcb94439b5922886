// `lorascope evaluate --model use-lite --task sentiment --adapter DIR [--json]`: load a saved adapter
// (loadAdapter → injectLora with its config → applyAdapter) and evaluate it on the test split of the
// run that made it (seed and --eval-limit read from DIR/run.json), checking that the predictions are
// the saved ones.
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { UserError } from "../../core/errors.ts";
import type { EncoderTask } from "../../experiments/encoder/spec.ts";
import type { Command } from "../command.ts";
import { parseFlags, type FlagTable } from "../flags.ts";
import { commandHelp } from "../help.ts";
import { MODEL_TASK_FLAGS, taskOrData } from "../encoder-flags.ts";
import { wantsLm } from "../lm-flags.ts";
import { lmEvaluateHelp, prepareLmEvaluate } from "./evaluate-lm.ts";

export const EVALUATE_FLAGS = {
  ...MODEL_TASK_FLAGS,
  adapter: { kind: "string", value: "dir", required: true, help: "adapter directory written by `lorascope finetune --out`" },
  json: { kind: "bool", setting: false, help: "print the result as one JSON document on stdout" },
} as const satisfies FlagTable;

interface EvaluateConfig {
  readonly source: { task: EncoderTask } | { data: string };
  readonly dir: string;
  readonly json: boolean;
  readonly saved: SavedRun;
}

interface SavedRun {
  spec: {
    task?: string;
    data?: string;
    seed: number;
    batch: number;
    r?: number;
    loraAlpha?: number;
    limit?: number;
    evalLimit?: number;
  };
  testPredictions: number[];
  testLogits: number[][];
}

async function runEvaluate({ source, dir, json, saved }: EvaluateConfig): Promise<number> {
  const task = "task" in source ? source.task : source.data;
  const { loadAdapter, applyAdapter } = await import("../../io/peft.ts");
  const loaded = await loadAdapter(dir);
  const ft = await import("../../experiments/encoder/finetune.ts");
  const clf = await import("../../models/use-lite/classifier.ts");
  const prng = await import("../../core/prng.ts");
  const { scaling } = await import("../../lora/config.ts");
  const { injectLora } = await import("../../lora/inject.ts");
  const { loadUseLite } = await import("../../models/use-lite/index.ts");
  const { disposeTree } = await import("../../engine/index.ts");
  const { seed, batch, limit, evalLimit } = saved.spec;
  const data = ft.taskData({
    ...source,
    seed,
    ...(limit === undefined ? {} : { limit }),
    ...(evalLimit === undefined ? {} : { evalLimit }),
  });
  const numLabels = data.dataset.labels.length;
  const m = await loadUseLite();
  const test = ft.cacheExamples(m, data.test);
  // Same key as the run: pissa rewrites W* from its SVD, so the base must be re-derived identically.
  const inj = await injectLora(prng.fold(prng.key(seed), "adapter"), ft.withHead(m.params, seed, numLabels), loaded.config);
  const params = applyAdapter(inj.params, loaded);
  const adapterCtx = clf.adapterContext(scaling(loaded.config));
  const ev = await clf.evaluate(params, test, numLabels, m.constants, adapterCtx, batch);
  disposeTree(params);
  const same =
    ev.predictions.length === saved.testPredictions.length &&
    ev.predictions.every((p, i) => p === saved.testPredictions[i]);
  let maxLogitDiff = 0;
  ev.logits.forEach((z, i) =>
    z.forEach((v, c) => (maxLogitDiff = Math.max(maxLogitDiff, Math.abs(v - (saved.testLogits[i]?.[c] ?? NaN))))),
  );
  const result = {
    task,
    adapter: dir,
    test: { accuracy: ev.accuracy, loss: ev.loss },
    matchesRun: same,
    maxLogitDiff,
    predictions: ev.predictions,
  };
  if (json) process.stdout.write(JSON.stringify(result) + "\n");
  else {
    process.stdout.write(
      `${task} test accuracy ${(100 * ev.accuracy).toFixed(2)}% (loss ${ev.loss.toFixed(4)}) on ${ev.predictions.length} examples; ` +
        (same ? `predictions identical to run.json (max |Δlogit| ${maxLogitDiff.toExponential(2)})\n` : `predictions DIFFER from run.json (max |Δlogit| ${maxLogitDiff.toExponential(2)})\n`),
    );
  }
  return same ? 0 : 1;
}

/** The adapter's rank and lora_alpha must be the run's: predictions from another adapter mean nothing. */
async function checkAdapterMatchesRun(dir: string, spec: SavedRun["spec"]): Promise<void> {
  const file = path.join(dir, "adapter_config.json");
  let cfg: { r?: unknown; lora_alpha?: unknown };
  try {
    cfg = JSON.parse(await readFile(file, "utf8")) as typeof cfg;
  } catch {
    throw new UserError(`${dir} has no readable adapter_config.json; give the folder lorascope finetune --out wrote`);
  }
  for (const [key, want] of [["r", spec.r], ["lora_alpha", spec.loraAlpha]] as const) {
    const have = (cfg as Record<string, unknown>)[key];
    if (want !== undefined && have !== want) {
      throw new UserError(`${file} has ${key} = ${String(have)} but its run.json trained with ${key} = ${want}; the adapter is not the run's`);
    }
  }
}

export const evaluate: Command = {
  name: "evaluate",
  summary: "a causal LM's loss and perplexity on text (with an adapter), or an encoder adapter's test predictions",
  help: () =>
    lmEvaluateHelp() +
    "\n\nThe sentence encoder (--model use-lite):\n\n" +
    commandHelp(
      "Usage: lorascope evaluate [--model use-lite] (--task sentiment|spam | --data DIR) --adapter DIR [--json]",
      ["Loads the adapter into a fresh model and evaluates it on the test split of the run that made it (seed and --eval-limit from DIR/run.json); exits 1 when its predictions differ from the saved ones."],
      EVALUATE_FLAGS,
    ),
  async prepare(argv) {
    if (await wantsLm(argv)) return prepareLmEvaluate(argv);
    const { values: v, positional } = await parseFlags(EVALUATE_FLAGS, argv);
    if (positional.length > 0) throw new UserError(`evaluate takes only flags, got "${positional[0] as string}"`);
    const dir = v.adapter;
    // The adapter's run.json is read here, so that a wrong folder or task is a usage error (exit 2).
    if (!existsSync(dir)) throw new UserError(`--adapter ${dir} does not exist`);
    let saved: SavedRun;
    try {
      saved = JSON.parse(await readFile(path.join(dir, "run.json"), "utf8")) as SavedRun;
    } catch {
      throw new UserError(`${dir} has no readable run.json; evaluate needs the run.json that lorascope finetune writes next to the adapter`);
    }
    if (typeof saved !== "object" || saved === null || typeof saved.spec !== "object" || saved.spec === null) {
      throw new UserError(`${path.join(dir, "run.json")} has no "spec"; evaluate needs the run.json that lorascope finetune writes`);
    }
    const source = taskOrData(v);
    const trainedOn = saved.spec.task ?? saved.spec.data;
    const given = "task" in source ? source.task : source.data;
    if ("task" in source ? saved.spec.task !== source.task : saved.spec.data === undefined) {
      throw new UserError(`the adapter in ${dir} was trained on ${String(trainedOn)}, not ${given}`);
    }
    await checkAdapterMatchesRun(dir, saved.spec);
    const c: EvaluateConfig = { source, dir, json: v.json, saved };
    return () => runEvaluate(c);
  },
};
