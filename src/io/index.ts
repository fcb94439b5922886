// The io room: safetensors files and PEFT adapter directories.
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
export { writeFileAtomic } from "./atomic.ts";
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
