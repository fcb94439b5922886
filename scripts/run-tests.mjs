// Runs every test/**/*.test.ts with Node's built-in runner (Node 20's --test takes no globs).
// Extra arguments are passed through, e.g. `npm test -- --test-name-pattern=lora`.
import { spawnSync } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import path from "node:path";

function find(dir) {
  return readdirSync(dir).flatMap((name) => {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) return name === "fixtures" ? [] : find(p);
    return name.endsWith(".test.ts") ? [p] : [];
  });
}

const files = find("test").sort();
const r = spawnSync(
  process.execPath,
  ["--import", "tsx", "--test", "--test-concurrency=2", ...process.argv.slice(2), ...files],
  { stdio: "inherit" },
);
process.exit(r.status ?? 1);
