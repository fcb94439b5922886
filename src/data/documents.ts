// Unlabelled text for language modelling: a corpus is a list of documents, and a corpus's split
// is made by document, so no held-out text shares a document with the training text.

export interface TextDocument {
  /** Stable name within its corpus (a file name without extension, such as "1790_george_washington_n" or "ca01"). */
  readonly id: string;
  readonly text: string;
  /** The group it belongs to (a party, a genre), for per-source selection and reports. */
  readonly source: string;
}

export const SPLIT_NAMES = ["train", "validation", "test"] as const;
export type SplitName = (typeof SPLIT_NAMES)[number];

export type DocumentSplits = Readonly<Record<SplitName, readonly TextDocument[]>>;
