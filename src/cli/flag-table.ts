// The types of a command's flag table and of the values parsed from it (flags.ts parses,
// config-file.ts checks files, help.ts prints; all three read this one description).

export type FlagKind = "string" | "number" | "int" | "bool" | "list" | "numlist" | "intlist";

interface FlagBase {
  readonly help: string;
  /** One letter: `-o` for `--out`. */
  readonly short?: string;
  /** Shown in help where there is no `default` value to show (e.g. "all cores"). */
  readonly defaultText?: string;
  /** The value's name in help: `--out <dir>`. */
  readonly value?: string;
  /**
   * A setting of the run: saved in config.json and accepted in a --config file (default). false for
   * flags that only say where output goes or how it is printed.
   */
  readonly setting?: boolean;
}

export interface BoolFlag extends FlagBase {
  readonly kind: "bool";
  readonly default?: boolean;
}
export interface StringFlag extends FlagBase {
  readonly kind: "string";
  readonly choices?: readonly string[];
  readonly default?: string;
  readonly required?: boolean;
}
export interface NumberFlag extends FlagBase {
  readonly kind: "number" | "int";
  readonly default?: number;
  readonly required?: boolean;
  /** Smallest allowed value (inclusive). */
  readonly min?: number;
  /** Largest allowed value (inclusive): every count, size and width has one, so nothing is unbounded. */
  readonly max?: number;
  /** Values must be > 0. */
  readonly positive?: boolean;
}
export interface ListFlag extends FlagBase {
  readonly kind: "list";
  readonly choices?: readonly string[];
  readonly default?: readonly string[];
  /** A value may appear more than once (default: refused). */
  readonly repeats?: boolean;
}
export interface NumListFlag extends FlagBase {
  readonly kind: "numlist" | "intlist";
  readonly default?: readonly number[];
  readonly min?: number;
  readonly max?: number;
  readonly positive?: boolean;
  /** A value may appear more than once (default: a repeat is refused, as it would redo the same work). */
  readonly repeats?: boolean;
}
export type FlagSpec = BoolFlag | StringFlag | NumberFlag | ListFlag | NumListFlag;
export type FlagTable = Readonly<Record<string, FlagSpec>>;
export type FlagValue = string | number | boolean | readonly string[] | readonly number[];

/** The type of one flag's value. */
export type ValueOf<S> = S extends { kind: "bool" }
  ? boolean
  : S extends { kind: "number" | "int" }
    ? number
    : S extends { kind: "numlist" | "intlist" }
      ? readonly number[]
      : S extends { kind: "list"; choices: readonly (infer C)[] }
        ? readonly C[]
        : S extends { kind: "list" }
          ? readonly string[]
          : S extends { kind: "string"; choices: readonly (infer C)[] }
            ? C
            : string;

/** Booleans, flags with a default and required flags always have a value after parsing. */
type Always<S> = S extends { kind: "bool" } ? true : S extends { default: unknown } ? true : S extends { required: true } ? true : false;

export type FlagValues<T extends FlagTable> = {
  readonly [K in keyof T]: Always<T[K]> extends true ? ValueOf<T[K]> : ValueOf<T[K]> | undefined;
};

export interface Parsed<T extends FlagTable> {
  readonly values: FlagValues<T>;
  /** Positional arguments in order (everything after `--` is positional). */
  readonly positional: readonly string[];
  /** The flags given on the command line or in a --config file (the others hold their defaults). */
  readonly given: ReadonlySet<string>;
}
