// Loki exports (logcli --output=jsonl, Grafana "download logs"): `line`, `timestamp` (RFC 3339 or
// nanoseconds), and `labels` as an object or as a `{pod="...", node="..."}` selector string.

import {
  labelSubject,
  obj,
  selectorLabels,
  str,
  timeField,
  type JsonShape,
  type Unwrapped,
} from "./types.js";

function labelsOf(value: unknown): Record<string, string> {
  const o = obj(value);
  if (o === undefined) return typeof value === "string" ? selectorLabels(value) : {};
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(o)) if (typeof v === "string") out[k] = v;
  return out;
}

export const loki: JsonShape = {
  name: "loki",
  kind: "json",
  unwrap(record) {
    const line = str(record.line);
    if (line === undefined) return undefined;
    const out: Unwrapped = { message: line };
    const timeMs = timeField(record.timestamp ?? record.ts);
    if (timeMs !== undefined) out.timeMs = timeMs;
    Object.assign(out, labelSubject(labelsOf(record.labels)));
    return out;
  },
};
