// `node --import ./test/support/forbid-heavy-imports.mjs …`: any module of the engine, the models,
// the figures (vega), the ML packages or the job queue (bullmq) that the process tries to load fails
// its import, so a command that only prints help or a usage error must get by without them
// (test/cli-lazy-imports.test.ts).
import { register } from "node:module";

register(
  "data:text/javascript," +
    encodeURIComponent(`
      const HEAVY = /\\/(src|dist)\\/(engine|models|report)\\/|\\/node_modules\\/(@jax-js|vega|vega-lite|@energetic-ai|@tensorflow|bullmq|ioredis)\\//;
      export async function resolve(specifier, context, next) {
        const r = await next(specifier, context);
        if (HEAVY.test(r.url)) throw new Error("heavy import: " + r.url);
        return r;
      }
    `),
);
