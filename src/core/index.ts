export { UserError, check } from "./errors.ts";
export * as prng from "./prng.ts";
export type { Key } from "./prng.ts";
export {
  type Params,
  isTensor,
  flatten,
  unflatten,
  getPath,
  setPath,
  partition,
  combine,
  modulePaths,
  pathsWithChild,
  mapTree,
} from "./tree.ts";
