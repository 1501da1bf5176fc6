// Grafana's "Download logs" as text (Explore or a logs panel's inspector): a header of `Label:
// value` lines (`Common labels: {…}`), then per row the time as `YYYY-MM-DD HH:mm:ss.SSS` in the
// browser's zone, a tab, and the entry as Loki stored it. The zone is not written, so the time is
// not used: the Felix record's own timestamp (or the one before it) stands, as in a plain log.

import type { TextShape } from "./types.js";

const ROW = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}\t/;

export const grafanaTxt: TextShape = {
  name: "grafana-txt",
  kind: "text",
  unwrap(line) {
    const c = line.charCodeAt(0);
    if (c < 48 || c > 57 || line.charCodeAt(23) !== 9) return undefined;
    const m = ROW.exec(line);
    return m === null ? undefined : { message: line.slice(m[0].length) };
  },
};
