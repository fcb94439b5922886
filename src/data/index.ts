// Real text read from installed npm packages, verified against sha256 pins. Labelled examples for
// classifier finetuning, cut by `stratifiedSplit` into reproducible train/validation/test sets;
// unlabelled documents for language models, split by document, with the user's own files and the
// [B, T] batching of token sequences. Tokenizing and embedding are the model's business.
export { type TextDataset, type TextExample } from "./text-dataset.ts";
export { loadSentiment, SENTIMENT_DOMAINS, type SentimentDomain } from "./sentiment.ts";
export { loadSpam, messageText } from "./spam.ts";
export { loadLabelledJsonl, DATA_FILES, type LabelledSplits } from "./labelled-jsonl.ts";
export { stratifiedSplit, DEFAULT_FRACTIONS, type SplitFractions, type SplitSizes, type Splits } from "./split.ts";
export { type TextDocument, type DocumentSplits, type SplitName, SPLIT_NAMES } from "./documents.ts";
export { loadSotu, sotuSplits, sotuSplitOf, SOTU_SPLIT_YEARS, type SotuSpeech } from "./sotu.ts";
export { loadBrown, brownSplits, brownSplitOf, brownText, BROWN_GENRES, BROWN_GENRE_NAMES, type BrownGenre } from "./brown.ts";
export { loadLmText, blocks, BUILT_IN_CORPORA, type LmTokenizer, type LmTextOptions, type LmSequences } from "./lm-text.ts";
export {
  trainBatches,
  evalBatches,
  makeBatch,
  padLengths,
  maskedTokenLoss,
  combineTokenLosses,
  type LmBatch,
  type LmBatchOptions,
  type TokenLoss,
} from "./lm-batches.ts";
