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
      parserOptions: {
        projectService: { allowDefaultProject: ["*.js", "bin/*.js", "scripts/*.mjs"] },
      },
    },
    plugins: { "@stylistic": stylistic },
    rules: {
      // Lines stay within 120 columns, except where a string or template literal makes them long:
      // messages, help text and markdown table rows read better (and stay greppable) unbroken.
      "@stylistic/max-len": [
        "error",
        { code: 120, ignoreUrls: true, ignoreRegExpLiterals: true, ignoreStrings: true, ignoreTemplateLiterals: true },
      ],
      // node:test's test()/describe() return promises the runner itself awaits.
      "@typescript-eslint/no-floating-promises": [
        "error",
        {
          allowForKnownSafeCalls: [
            { from: "package", package: "node:test", name: ["test", "describe", "it", "suite"] },
          ],
        },
      ],
      // An async function that implements a Promise-returning interface needs no await.
      "@typescript-eslint/require-await": "off",
      // A leading underscore marks a deliberately unused name (omitting keys by destructuring).
      "@typescript-eslint/no-unused-vars": [
        "error",
        {
          argsIgnorePattern: "^_",
          varsIgnorePattern: "^_",
          destructuredArrayIgnorePattern: "^_",
          ignoreRestSiblings: true,
        },
      ],
    },
  },
  {
    // The engine wraps jax-js, whose exported types are loose (and name WebGPU and Float16Array types
    // that lib ES2022 lacks, so they read as unresolved); `any` stays inside this folder.
    files: ["src/engine/**"],
    rules: {
      "@typescript-eslint/no-explicit-any": "off",
      "@typescript-eslint/no-unsafe-assignment": "off",
      "@typescript-eslint/no-unsafe-member-access": "off",
      "@typescript-eslint/no-unsafe-argument": "off",
      "@typescript-eslint/no-unsafe-call": "off",
      "@typescript-eslint/no-unsafe-return": "off",
    },
  },
  {
    // The README shows the example verbatim within a 25-line budget (test/readme-example.test.ts).
    files: ["examples/**"],
    rules: { "@stylistic/max-len": "off" },
  },
  {
    files: ["**/*.js", "**/*.mjs"],
    ...tseslint.configs.disableTypeChecked,
  },
);
