// `lorascope inspect <adapter dir> [--json]`: what a PEFT adapter holds and how big its update is.
import { scaling } from "../../lora/config.ts";
import type { ModuleSummary } from "../../io/adapter-summary.ts";
import { UserError } from "../../core/errors.ts";
import type { Command } from "../command.ts";
import { flagHelp, parseFlags, type FlagTable } from "../flags.ts";

const FLAGS: FlagTable = {
  json: { kind: "bool", help: "print one JSON object {config, scaling, modules} instead of text" },
};

const fmt = (x: number): string =>
  x === 0 ? "0" : Math.abs(x) >= 1e-3 && Math.abs(x) < 1e4 ? x.toPrecision(5) : x.toExponential(4);

function table(modules: readonly ModuleSummary[]): string {
  const head = ["module", "A [r, in]", "B [out, r]", "‖A‖", "‖B‖", "‖s·B·A‖", "B·A"];
  const rows = modules.map((m) => [
    m.name,
    `[${m.A.join(", ")}]`,
    `[${m.B.join(", ")}]`,
    fmt(m.normA),
    fmt(m.normB),
    fmt(m.normDelta),
    m.deltaIsZero ? "zero" : "nonzero",
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)));
  return [head, ...rows].map((r) => r.map((c, i) => c.padEnd(widths[i] as number)).join("  ").trimEnd()).join("\n");
}

export const inspect: Command = {
  name: "inspect",
  summary: "show a PEFT adapter's config and per-module factor norms",
  help: [
    "Usage: lorascope inspect <adapter dir> [--json]",
    "",
    "Reads adapter_config.json and adapter_model.safetensors (written by lorascope or PEFT, F32/F16/BF16)",
    "and prints the config and, per module, the shapes of A [r, in] and B [out, r], their Frobenius",
    "norms, ‖s·B·A‖_F (s = lora_alpha/r, or lora_alpha/√r with use_rslora) and whether B·A is zero.",
    "",
    flagHelp(FLAGS),
  ].join("\n"),
  async run(argv) {
    const { flags, positional } = parseFlags(FLAGS, argv);
    if (positional.length !== 1) {
      throw new UserError(`inspect takes one adapter directory, got ${positional.length} arguments`);
    }
    // Loaded on use, so other commands (and --help) do not pay for the engine import.
    const { loadAdapter } = await import("../../io/peft.ts");
    const { summarizeAdapter } = await import("../../io/adapter-summary.ts");
    const loaded = await loadAdapter(positional[0] as string);
    const modules = summarizeAdapter(loaded);
    const s = scaling(loaded.config);
    if (flags["json"] === true) {
      process.stdout.write(JSON.stringify({ config: loaded.rawConfig, scaling: s, modules }) + "\n");
      return 0;
    }
    const c = loaded.config;
    const lines = [
      `adapter: ${positional[0] as string}`,
      `r = ${c.r}, lora_alpha = ${c.lora_alpha}, use_rslora = ${c.use_rslora}, scaling s = ${fmt(s)}`,
      `init: ${c.init_lora_weights}${c.init_std === undefined ? "" : ` (init_std ${c.init_std})`}, lora_dropout = ${c.lora_dropout}`,
      `target_modules: ${typeof c.target_modules === "string" ? c.target_modules : c.target_modules.join(", ")}`,
      `modules_to_save: ${c.modules_to_save.length === 0 ? "none" : c.modules_to_save.join(", ")}`,
      ...(loaded.meta.base_model_name_or_path === undefined
        ? []
        : [`base model: ${loaded.meta.base_model_name_or_path}`]),
      "",
      table(modules),
      ...(loaded.saved.size === 0
        ? []
        : ["", `saved in full: ${[...loaded.saved].map(([k, t]) => `${k} [${t.shape.join(", ")}]`).join(", ")}`]),
    ];
    process.stdout.write(lines.join("\n") + "\n");
    return 0;
  },
};
