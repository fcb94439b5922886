// `node --import ./bench/published-engine.mjs …`: the process imports the published @jax-js/jax
// (the unpatched copy unpacked by bench/run.ts, folder in LORASCOPE_PUBLISHED_ENGINE) wherever it
// asks for "@jax-js/jax", so a benchmark can run the same script on both engines side by side.
import { register } from "node:module";

const dir = process.env["LORASCOPE_PUBLISHED_ENGINE"];
if (!dir) throw new Error("LORASCOPE_PUBLISHED_ENGINE must name the unpacked published engine's folder");
const entry = new URL(`file://${dir}/dist/index.js`).href;
register(
  `data:text/javascript,${encodeURIComponent(`
export async function resolve(specifier, context, next) {
  return specifier === "@jax-js/jax" ? { url: ${JSON.stringify(entry)}, shortCircuit: true } : next(specifier, context);
}`)}`,
);
