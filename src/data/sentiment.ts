// UCI "Sentiment Labelled Sentences" (Kotzias et al., KDD 2015; CC BY 4.0) as shipped in the test
// fixtures of the npm package sentiment@5.0.2: 1,000 sentences each from IMDb, Yelp and Amazon
// reviews, 500 negative (0) and 500 positive (1) per domain — the SST-2 stand-in of lorascope.
// Each file also ends with one `{text: "", class: null}` entry, which is dropped. Texts are trimmed
// (the IMDb sentences end in two spaces, which would become two "▁" tokens).
import path from "node:path";
import { UserError } from "../core/errors.ts";
import { packageDir, readPinnedFile, type TextDataset, type TextExample } from "./text-dataset.ts";

const PKG = "sentiment";
const VERSION = "5.0.2";
export const SENTIMENT_DOMAINS = ["imdb", "yelp", "amazon"] as const;
export type SentimentDomain = (typeof SENTIMENT_DOMAINS)[number];

const SHA256: Record<SentimentDomain, string> = {
  imdb: "44a7b9082ed732ee2de3c858ea5ee2e99aca34f239a1c4359d3a300bf099bdb5",
  yelp: "9f3f47983f21eeb819380767b74bfa648eca208f156241111454b3e122773ff7",
  amazon: "bc5eb0cac49fc45987301f1dc2d02cf5ca356ba6c882be179dce77d74e666ed9",
};

/** The sentences of the chosen domains (default all three, 3,000 sentences), in file order. */
export function loadSentiment(domains: readonly SentimentDomain[] = SENTIMENT_DOMAINS): TextDataset {
  for (const d of domains) {
    if (!SENTIMENT_DOMAINS.includes(d))
      throw new UserError(`sentiment domain "${String(d)}" is unknown; allowed: ${SENTIMENT_DOMAINS.join(", ")}`);
  }
  const dir = path.join(packageDir(PKG, VERSION), "test", "fixtures");
  const examples: TextExample[] = [];
  for (const domain of domains) {
    const bytes = readPinnedFile(path.join(dir, `${domain}.json`), SHA256[domain], PKG, VERSION);
    const rows = JSON.parse(bytes.toString("utf8")) as Array<{ text: string; class: number | null }>;
    for (const row of rows) {
      if (row.class === null && row.text === "") continue; // the trailing empty entry
      examples.push({ text: row.text.trim(), label: row.class === 1 ? 1 : 0, source: domain });
    }
  }
  return {
    name: "sentiment",
    labels: ["negative", "positive"],
    examples,
    citation: "UCI Sentiment Labelled Sentences (Kotzias et al., KDD 2015, CC BY 4.0), via npm sentiment@5.0.2",
  };
}
