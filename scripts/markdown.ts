// Text of the analysis (η*, Z_A, …) made safe for Markdown: the * of η* and the _ of Z_A must not
// open emphasis. Fenced code blocks are left as they are (a backslash would show there).
export const escapeMarkdown = (text: string): string =>
  text
    .split(/(```[\s\S]*?```)/)
    .map((part) => (part.startsWith("```") ? part : part.replace(/[*_]/g, (c) => `\\${c}`)))
    .join("");
