// The width study's base models: one pretrained Llama per width in OUT/models/w<width>, all from the
// same settings but the width (study-spec.ts familyMember). A finished member (its pretrain.json is
// there) is reused when its settings are the study's and refused, naming the setting, when they are
// not — base models of other settings are never mixed into one study; a member interrupted mid-run
// resumes from its checkpoint; anything else in the folder (a run killed before its first
// checkpoint) is started over.
import { existsSync, readFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import path from "node:path";
import { UserError } from "../../core/errors.ts";
import { checkpointDir } from "../../train/checkpoint.ts";
import { PRETRAIN_FILE, runPretrain, type PretrainResult } from "./pretrain.ts";
import { specDifference } from "./pretrain-spec.ts";
import { familyMember, type LmStudySpec } from "./study-spec.ts";

export const MODELS_DIR = "models";
/** Token ids of the pretraining texts, shared by every width. */
export const FAMILY_TOKEN_CACHE = path.join(MODELS_DIR, "token-cache");

export const memberDir = (outDir: string, width: number): string => path.join(outDir, MODELS_DIR, `w${width}`);

export interface FamilyMember {
  readonly width: number;
  /** The Hugging Face folder of the pretrained model. */
  readonly dir: string;
  readonly result: PretrainResult;
  /** Pretrained by this call (false: reused). */
  readonly trained: boolean;
}

/** The finished member in `dir`, if any: its pretrain.json, checked against the study's settings. */
function finished(dir: string, study: LmStudySpec, width: number): PretrainResult | undefined {
  const file = path.join(dir, PRETRAIN_FILE);
  if (!existsSync(file)) return undefined;
  let result: PretrainResult;
  try {
    result = JSON.parse(readFileSync(file, "utf8")) as PretrainResult;
  } catch {
    throw new UserError(`${file} is damaged (not JSON); remove ${dir} to pretrain that width again`);
  }
  const differs = specDifference(result.spec, familyMember(study, width));
  if (differs !== undefined) {
    throw new UserError(
      `${dir} was pretrained with other settings: ${differs}; a study does not mix base models of different settings — use another --out`,
    );
  }
  return result;
}

/** Pretrain (or reuse, or resume) every width of the study, narrowest first; `onPretraining` hears each it trains. */
export async function ensureFamily(
  study: LmStudySpec,
  outDir: string,
  progress: (line: string) => void = () => {},
  onPretraining: (width: number) => void = () => {},
): Promise<FamilyMember[]> {
  // Every finished member is checked before any training, so a mismatch costs nothing.
  const done = new Map(study.widths.map((w) => [w, finished(memberDir(outDir, w), study, w)] as const));
  const members: FamilyMember[] = [];
  for (const width of study.widths) {
    const dir = memberDir(outDir, width);
    const reused = done.get(width);
    if (reused !== undefined) {
      members.push({ width, dir, result: reused, trained: false });
      continue;
    }
    const resume = checkpointDir(dir) !== undefined;
    if (!resume) await rm(dir, { recursive: true, force: true });
    progress(`${resume ? "resuming" : "pretraining"} width ${width} in ${dir}`);
    onPretraining(width);
    const result = await runPretrain(familyMember(study, width), {
      outDir: dir,
      resume,
      tokenCache: path.join(outDir, FAMILY_TOKEN_CACHE),
      progress: (l) => progress(`  w${width}: ${l}`),
    });
    const final = result.validation.final;
    progress(
      `width ${width}: validation perplexity ${final === null ? "– (diverged)" : final.perplexity.toFixed(2)}, ` +
        `unigram baseline ${result.validation.unigram.perplexity.toFixed(2)}`,
    );
    members.push({ width, dir, result, trained: true });
  }
  return members;
}
