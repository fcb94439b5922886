// `lorascope evaluate --model use-lite --task sentiment --adapter DIR [--json]`: load a saved adapter
// (loadAdapter → injectLora with its config → applyAdapter) and evaluate it on the test split of the
// run that made it (seed and --eval-limit read from DIR/run.json), checking that the predictions are
// the saved ones.
import { readFile } from "node:fs/promises";
import path from "node:path";
import { UserError } from "../../core/errors.ts";
import type { Command } from "../command.ts";
import { flagHelp, parseFlags, type FlagTable } from "../flags.ts";
import { MODEL_TASK_FLAGS, modelAndTask } from "../encoder-flags.ts";


const FLAGS: FlagTable = {
  ...MODEL_TASK_FLAGS,
  adapter: { kind: "string", help: "adapter directory written by `lorascope finetune --out`" },
  json: { kind: "bool", help: "print the result as one JSON line on stdout" },
};

interface SavedRun {
  spec: { task: string; seed: number; batch: number; limit?: number; evalLimit?: number };
  testPredictions: number[];
  testLogits: number[][];
}

export const evaluate: Command = {
  name: "evaluate",
  summary: "evaluate a saved adapter on its run's test split and check its predictions",
  help: [
    "Usage: lorascope evaluate --model use-lite --task sentiment --adapter DIR [--json]",
    "",
    flagHelp(FLAGS),
  ].join("\n"),
  async run(argv) {
    const { flags } = parseFlags(FLAGS, argv);
    const { task } = modelAndTask(flags);
    const dir = flags["adapter"] as string | undefined;
    if (dir === undefined)
      throw new UserError("--adapter DIR is required (a directory written by lorascope finetune --out)");
    const { loadAdapter, applyAdapter } = await import("../../io/peft.ts");
    const loaded = await loadAdapter(dir);
    let saved: SavedRun;
    try {
      saved = JSON.parse(await readFile(path.join(dir, "run.json"), "utf8")) as SavedRun;
    } catch {
      throw new UserError(
        `${dir} has no readable run.json; evaluate needs the run.json that lorascope finetune writes next to the adapter`,
      );
    }
    if (saved.spec.task !== task)
      throw new UserError(`the adapter in ${dir} was trained on ${saved.spec.task}, not ${task}`);
    const ft = await import("../../experiments/encoder/finetune.ts");
    const clf = await import("../../models/use-lite/classifier.ts");
    const prng = await import("../../core/prng.ts");
    const { scaling } = await import("../../lora/config.ts");
    const { injectLora } = await import("../../lora/inject.ts");
    const { loadUseLite } = await import("../../models/use-lite/index.ts");
    const { disposeTree } = await import("../../engine/index.ts");
    const { seed, batch, limit, evalLimit } = saved.spec;
    const data = ft.taskData({
      task: task,
      seed,
      ...(limit === undefined ? {} : { limit }),
      ...(evalLimit === undefined ? {} : { evalLimit }),
    });
    const numLabels = data.dataset.labels.length;
    const m = await loadUseLite();
    const test = ft.cacheExamples(m, data.test);
    // Same key as the run: pissa rewrites W* from its SVD, so the base must be re-derived identically.
    const inj = await injectLora(
      prng.fold(prng.key(seed), "adapter"),
      ft.withHead(m.params, seed, numLabels),
      loaded.config,
    );
    const params = applyAdapter(inj.params, loaded);
    const ev = await clf.evaluate(
      params,
      test,
      numLabels,
      m.constants,
      clf.adapterContext(scaling(loaded.config)),
      batch,
    );
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
    if (flags["json"] === true) process.stdout.write(JSON.stringify(result) + "\n");
    else {
      process.stdout.write(
        `${task} test accuracy ${(100 * ev.accuracy).toFixed(2)}% (loss ${ev.loss.toFixed(4)}) on ${ev.predictions.length} examples; ` +
          (same
            ? `predictions identical to run.json (max |Δlogit| ${maxLogitDiff.toExponential(2)})\n`
            : `predictions DIFFER from run.json (max |Δlogit| ${maxLogitDiff.toExponential(2)})\n`),
      );
    }
    return same ? 0 : 1;
  },
};
