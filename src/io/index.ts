// The io room: safetensors files, PEFT adapter directories, llama2.c checkpoints as HF Llama folders.
export {
  READ_DTYPES,
  WRITE_DTYPES,
  MAX_HEADER_BYTES,
  decodeSafetensors,
  encodeSafetensors,
  readSafetensors,
  writeSafetensors,
  type Dtype,
  type WriteDtype,
  type HostTensor,
  type WriteTensor,
  type WriteOptions,
  type SafetensorsContents,
} from "./safetensors.ts";
export { openSafetensors, type SafetensorsFile } from "./safetensors-file.ts";
export {
  CONFIG_FILE,
  WEIGHTS_FILE,
  INDEX_FILE,
  openHfCheckpoint,
  loadHfCheckpoint,
  loadCausalLM,
  type HfCheckpoint,
  type CausalLM,
} from "./hf-checkpoint.ts";
export { f32ToF16Bits, f16BitsToF32, f32ToBf16Bits, bf16BitsToF32 } from "./half.ts";
export { writeFileAtomic, writeFolderAtomic, checkEmptyOut } from "./atomic.ts";
export {
  ADAPTER_CONFIG,
  ADAPTER_WEIGHTS,
  saveAdapter,
  loadAdapter,
  applyAdapter,
  type LoadedAdapter,
  type FloatTensor,
  type SaveOptions,
} from "./peft.ts";
export { peftConfigJson, parsePeftConfig, type AdapterMeta } from "./peft-config.ts";
export { summarizeAdapter, productNorm, ZERO_TOL, type ModuleSummary } from "./adapter-summary.ts";
export {
  readLlama2cCheckpoint,
  readLlama2cHeader,
  interleavedToHalves,
  llamaConfigFromHeader,
  llamaTensorNames,
  type LlamaConfigJson,
  type Llama2cHeader,
  type Llama2cModel,
} from "./llama2c.ts";
export { readLlama2cTokenizer, llama2cTokenizerJson, llama2cTokenizerConfig, bpeMerges, type Llama2cTokenizer } from "./llama2c-tokenizer.ts";
export { convertLlama2c, convertLlama2cFiles, loadLlama2c, writeHfLlama, hfFolderFiles, type HfLlamaModel } from "./convert-llama2c.ts";
export { loadStories260K, STORIES260K, STORIES260K_DIR, STORIES260K_FILES } from "./stories260k.ts";
