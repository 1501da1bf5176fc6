// Loki exports (logcli --output=jsonl, Grafana "download logs"): `line`, `timestamp` (RFC 3339 or
// nanoseconds), and `labels` as an object or as a `{pod="...", node="..."}` selector string.

import { obj, str, timeField, type JsonShape, type Unwrapped } from "./types.js";

function labelsOf(value: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  const o = obj(value);
  if (o !== undefined) {
    for (const [k, v] of Object.entries(o)) if (typeof v === "string") out[k] = v;
    return out;
  }
  if (typeof value === "string") {
    for (const m of value.matchAll(/([A-Za-z_][A-Za-z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"/g)) {
      if (m[1] !== undefined && m[2] !== undefined) out[m[1]] = m[2];
    }
  }
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
    const labels = labelsOf(record.labels);
    const pod = labels.pod ?? labels.pod_name;
    const container = labels.container ?? labels.container_name;
    const node = labels.node ?? labels.node_name ?? labels.host ?? labels.hostname;
    if (pod !== undefined) out.pod = pod;
    if (container !== undefined) out.container = container;
    if (node !== undefined) out.node = node;
    return out;
  },
};
