// `journalctl` text output (short, short-precise, short-iso) of container logs that Docker's
// journald log driver wrote (the default of some distributions' Docker; RKE1 nodes run Docker):
// `<time> <host> <identifier>[<pid>]: <line>`, one entry per line, so a Felix record's
// continuation lines each carry the prefix. The identifier is the driver's tag: the container ID
// (12 or 64 hex digits) by default, or a `k8s_<container>_<pod>_…` name when the tag says so.
// Other identifiers (a host daemon's syslog) are left alone: those lines are syslog records.

import type { TextShape, Unwrapped } from "./types.js";

const ENTRY =
  /^(?:[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d(?:\.\d{1,9})?|\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,9})?(?:Z|[+-]\d\d:?\d\d)) (\S+) ([^\s[\]]+)\[\d+\]: /;
const CONTAINER_ID = /^(?:[0-9a-f]{12}|[0-9a-f]{64})$/;

export const journalText: TextShape = {
  name: "journal-text",
  kind: "text",
  unwrap(line) {
    const m = ENTRY.exec(line);
    if (m === null || m[1] === undefined || m[2] === undefined) return undefined;
    const ident = m[2];
    const parts = ident.split("_");
    const k8s = parts[0] === "k8s" && parts.length >= 4 && parts[1] !== "" && parts[2] !== "";
    if (!k8s && !CONTAINER_ID.test(ident)) return undefined;
    // The time is left out: the short formats carry no year or zone, and the line's own time is
    // Felix's (the ISO form would do, but one rule for all three keeps the subjects' times alike).
    const out: Unwrapped = { message: line.slice(m[0].length), node: m[1] };
    if (k8s && parts[1] !== undefined && parts[2] !== undefined) {
      out.container = parts[1];
      out.pod = parts[2];
    }
    return out;
  },
};
