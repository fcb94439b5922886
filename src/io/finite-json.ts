// JSON that keeps NaN and ±Infinity. Plain JSON has neither: a diverged loss or a δ that is
// undefined at the first measurement would come back as null or break the parse. Every file of
// rows lorascope writes (sweep rows, run.json, metrics.jsonl) goes through these two functions.

/** JSON has no NaN or ±Infinity: NaN is written as null, ±Infinity as the strings "Infinity"/"-Infinity". */
export function finiteJson(value: unknown, space?: number): string {
  return JSON.stringify(
    value,
    (_k, v: unknown) =>
      typeof v === "number" && !Number.isFinite(v) ? (Number.isNaN(v) ? null : v > 0 ? "Infinity" : "-Infinity") : v,
    space,
  );
}

/**
 * Which nulls of a stored row are NaN written by `finiteJson`: every null except those of the keys
 * in `keepNull` (fields whose absent value is null, like a run's `divergedAt`), or none ("all").
 */
export type NullFields = ReadonlySet<string> | "all";

/** Parse one `finiteJson` value: "Infinity"/"-Infinity" back to numbers, nulls as `keepNull` says. */
export function parseFiniteJson(text: string, keepNull: NullFields): unknown {
  return JSON.parse(text, (k, v: unknown) => {
    if (v === "Infinity") return Infinity;
    if (v === "-Infinity") return -Infinity;
    if (v === null && keepNull !== "all" && !keepNull.has(k)) return NaN;
    return v;
  });
}
