// Grafana Loki's `logcli query` in its default output mode: a header naming the labels every line
// shares (`Common labels: {…}`), then per line the entry's time (RFC 3339, UTC or local offset), the
// labels that differ from the common ones as a `{k="v", …}` selector (`{}` when none; padded to a
// common width), and the line. `--output=raw` is plain text and `--output=jsonl` is the loki shape.

import { labelSubject, selectorLabels, type TextShape, type Unwrapped } from "./types.js";

const ENTRY =
  /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,9})?(?:Z|[+-]\d\d:\d\d)) (\{(?:[^"}]|"(?:[^"\\]|\\.)*")*\}) */;

export const logcli: TextShape = {
  name: "logcli",
  kind: "text",
  unwrap(line) {
    const c = line.charCodeAt(0);
    if (c < 48 || c > 57) return undefined;
    const m = ENTRY.exec(line);
    if (m === null || m[1] === undefined || m[2] === undefined) return undefined;
    const out: Unwrapped = { message: line.slice(m[0].length), ...labelSubject(selectorLabels(m[2])) };
    const timeMs = Date.parse(m[1]);
    if (!Number.isNaN(timeMs)) out.timeMs = timeMs;
    return out;
  },
};
