// A sweep worker whose jobs fail on purpose (test/reliability.test.ts): "user" throws a UserError,
// "internal" an unexpected TypeError, "ok" succeeds.
import { UserError } from "../../src/core/errors.ts";
import { servePool } from "../../src/experiments/worker-pool.ts";

servePool<{ kind: "user" | "internal" | "ok" }>(async (job) => {
  if (job.kind === "user") throw new UserError("runs/x.json is not a row file; remove it");
  if (job.kind === "internal") throw new TypeError("cannot read properties of undefined (reading 'lr')");
});
