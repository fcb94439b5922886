// Word-wrapping for help text: every line at most `width` columns (a word longer than the width
// stands alone on its line rather than being cut), continuation lines indented.

/** Help text is wrapped to this many columns. */
export const HELP_WIDTH = 100;

/**
 * Wrap one paragraph (words separated by any whitespace). The first line starts with `first`, which
 * counts toward the width (for a help row: the flag column padded to `indent`); later lines start
 * with `indent` spaces.
 */
export function wrap(text: string, width: number = HELP_WIDTH, indent = 0, first: string = " ".repeat(indent)): string[] {
  const pad = " ".repeat(indent);
  const lines: string[] = [];
  let line = first;
  let fresh = true; // no word on `line` yet
  for (const word of text.split(/\s+/).filter((w) => w !== "")) {
    if (fresh) line += word;
    else if (line.length + 1 + word.length <= width) line += ` ${word}`;
    else {
      lines.push(line);
      line = pad + word;
    }
    fresh = false;
  }
  lines.push(line.trimEnd());
  return lines;
}
