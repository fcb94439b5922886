// Lint: ESLint with typescript-eslint rather than Biome, because the checks worth having here need the
// type checker: floating or misused promises (sweeps, worker pools, the CLI are all async), `any`
// leaking out of src/engine (the only place allowed to touch jax-js's loose types), awaiting
// non-promises. Biome's linter does not see types, and has no line-length rule short of running its
// formatter over the whole tree. Formatting is otherwise left alone: only line length is checked.
import js from "@eslint/js";
import stylistic from "@stylistic/eslint-plugin";
import globals from "globals";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["dist/", "node_modules/", "lorascope-out/", "scratch/", "tmp/"] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      globals: globals.node,
      parserOptions: { projectService: { allowDefaultProject: ["*.js", "bin/*.js", "scripts/*.mjs", "examples/*.ts"] } },
    },
    plugins: { "@stylistic": stylistic },
    rules: {
      "@stylistic/max-len": ["error", { code: 120, ignoreUrls: true, ignoreRegExpLiterals: true }],
      // node:test's test()/describe() return promises the runner itself awaits.
      "@typescript-eslint/no-floating-promises": [
        "error",
        { allowForKnownSafeCalls: [{ from: "package", package: "node:test", name: ["test", "describe", "it", "suite"] }] },
      ],
      // A leading underscore marks a deliberately unused name (omitting keys by destructuring).
      "@typescript-eslint/no-unused-vars": [
        "error",
        { argsIgnorePattern: "^_", varsIgnorePattern: "^_", destructuredArrayIgnorePattern: "^_", ignoreRestSiblings: true },
      ],
    },
  },
  {
    // The engine wraps jax-js, whose exported types are loose; `any` stays inside this folder.
    files: ["src/engine/**"],
    rules: { "@typescript-eslint/no-explicit-any": "off" },
  },
  {
    files: ["**/*.js", "**/*.mjs"],
    ...tseslint.configs.disableTypeChecked,
  },
);
