// `kubectl logs --timestamps`: an RFC 3339 time and a space before every line (unlike CRI, no
// stream and no F/P flag; CRI lines are left to the fast path's reader).

import type { TextShape } from "./types.js";

const STAMP = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,9})?(?:Z|[+-]\d\d:\d\d)) /;
const CRI_REST = /^std(?:out|err) [FP] /;

export const kubectlTimestamps: TextShape = {
  name: "kubectl-timestamps",
  kind: "text",
  unwrap(line) {
    const c = line.charCodeAt(0);
    if (c < 48 || c > 57) return undefined;
    const m = STAMP.exec(line);
    if (m === null || m[1] === undefined) return undefined;
    const message = line.slice(m[0].length);
    if (CRI_REST.test(message)) return undefined;
    const timeMs = Date.parse(m[1]);
    return Number.isNaN(timeMs) ? { message } : { message, timeMs };
  },
};
