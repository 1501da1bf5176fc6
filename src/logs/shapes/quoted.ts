// Lines pasted into a ticket, a Markdown document or an e-mail: `> ` quoting (any depth) and
// leading indentation. Quoting is removed from every line (it wraps continuation lines too);
// indentation only where what follows starts a record, so indented continuations stay as they are.

import { startKind, START_NONE } from "../lines.js";
import type { TextShape } from "./types.js";

const QUOTE = /^(?:[ \t]*>[ \t]?)+/;

export const quoted: TextShape = {
  name: "quoted",
  kind: "text",
  unwrap(line) {
    const c = line.charCodeAt(0);
    if (c === 62 || (c === 32 && line.trimStart().startsWith(">"))) {
      const m = QUOTE.exec(line);
      if (m !== null) return { message: line.slice(m[0].length) };
    }
    if (c !== 32 && c !== 9) return undefined;
    const rest = line.trimStart();
    return startKind(rest, 0) === START_NONE ? undefined : { message: rest };
  },
};
