// The grid engine every finetuning study runs on (src/experiments/grid-sweep.ts), with a study whose
// run function only writes a row: seed-major cells, one row file per cell, resume without rerunning,
// a widened grid, and rows of other settings refused.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { UserError } from "../src/core/errors.ts";
import { runGridSweep, type GridCell, type GridStudy } from "../src/experiments/grid-sweep.ts";
import { canonicalSettings, runsDir, writeRowFile } from "../src/experiments/store.ts";

interface Sweep { lrs: number[]; inits: string[]; seeds: number; steps: number }
interface Row extends GridCell { value: number }

function study(ran: GridCell[]): GridStudy<GridCell, Sweep> {
  return {
    cells: (s) =>
      Array.from({ length: s.seeds }, (_, seed) => s.inits.flatMap((init) => s.lrs.map((lr) => ({ init, lr, seed }))))
        .flat(),
    settings: (s) => canonicalSettings({ steps: s.steps }),
    worker: new URL("./unused-worker.ts", import.meta.url),
    runJob: async ({ spec, file }) => {
      ran.push(spec);
      await writeRowFile(file, [{ ...spec, value: spec.lr * (spec.seed + 1), nan: NaN }]);
    },
  };
}

test("cells run seed-major, once; a rerun skips finished cells, a wider grid runs only the new ones", async () => {
  const out = await mkdtemp(path.join(tmpdir(), "lorascope-grid-"));
  try {
    const ran: GridCell[] = [];
    const s: Sweep = { lrs: [1e-3, 1e-2], inits: ["init-a", "init-b"], seeds: 2, steps: 5 };
    const first = await runGridSweep<Row, GridCell, Sweep>(study(ran), s, out, { workers: 0 });
    assert.equal(first.runsTotal, 8);
    assert.equal(first.runsSkipped, 0);
    assert.deepEqual(ran.map((c) => c.seed), [0, 0, 0, 0, 1, 1, 1, 1]);
    assert.equal((await readdir(runsDir(out))).length, 8);
    assert.ok(first.rows.some((r) => r.init === "init-b" && r.lr === 1e-2 && r.seed === 1 && r.value === 2e-2));
    const again = await runGridSweep<Row, GridCell, Sweep>(study(ran), s, out, { workers: 0 });
    assert.equal(again.runsSkipped, 8);
    assert.equal(ran.length, 8, "nothing reran");
    const wider = await runGridSweep<Row, GridCell, Sweep>(study(ran), { ...s, seeds: 3 }, out, { workers: 0 });
    assert.equal(wider.runsSkipped, 8);
    assert.equal(ran.length, 12);
    assert.equal(wider.rows.length, 12);
    await assert.rejects(
      runGridSweep<Row, GridCell, Sweep>(study(ran), { ...s, steps: 6 }, out, { workers: 0 }),
      (e: unknown) => e instanceof UserError && /holds a sweep run with other settings/.test(e.message),
    );
    const narrow = { ...s, lrs: [1e-3], seeds: 1 };
    const narrower = await runGridSweep<Row, GridCell, Sweep>(study(ran), narrow, out, { workers: 0 });
    assert.equal(narrower.rows.length, 2, "the rows of this grid only");
  } finally {
    await rm(out, { recursive: true, force: true });
  }
});
