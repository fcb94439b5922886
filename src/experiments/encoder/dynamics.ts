// The sentence encoder's measuring pass for the shared LoRA dynamics recorder (experiments/dynamics.ts):
// the first `batch` validation sentences, padded to their length bucket, through the classifier.
import type { Params } from "../../core/tree.ts";
import type { Tensor } from "../../engine/index.ts";
import type { UseLiteConstants } from "../../models/use-lite/index.ts";
import { batchOf, bucketFor, logitsOf, type Cached } from "../../models/use-lite/classifier.ts";
import { dynamicsRecorder as recorder, type DynamicsRecorder } from "../dynamics.ts";

export { meanOverModules, type DynamicsRecorder, type ModuleDynamics } from "../dynamics.ts";

/**
 * A recorder for one run. `data` is the validation split; the measuring batch is its first
 * min(batch, n) sentences, padded to their length bucket.
 */
export function dynamicsRecorder(
  data: Cached,
  batch: number,
  constants: UseLiteConstants,
  scaling: number,
): DynamicsRecorder {
  const idx = [...Array(Math.min(batch, data.labels.length)).keys()];
  const lengths = idx.map((i) => (data.rows[i] as Float32Array).length / 256);
  return recorder(
    {
      forward: (p: Params, ctx, [x, mask]) => logitsOf(p, x as Tensor, mask as Tensor, constants, ctx),
      batch: () => {
        const { x, mask, weight } = batchOf(data, idx, idx.length);
        weight.dispose();
        return [x, mask];
      },
      lengths,
      length: bucketFor(Math.max(1, ...lengths)),
    },
    scaling,
  );
}
