// Fluent Bit / Fluentd records from the Kubernetes filter: `log` (or `message`), a time in
// `@timestamp`, `time` or `date`, and `kubernetes{pod_name, container_name, host}`.

import { chomp, obj, str, timeField, type JsonShape, type Unwrapped } from "./types.js";

export const fluent: JsonShape = {
  name: "fluent",
  kind: "json",
  unwrap(record) {
    const k8s = obj(record.kubernetes);
    const log = str(record.log) ?? str(record.message);
    if (k8s === undefined || log === undefined) return undefined;
    const out: Unwrapped = { message: chomp(log) };
    const timeMs = timeField(record["@timestamp"] ?? record.time ?? record.date);
    if (timeMs !== undefined) out.timeMs = timeMs;
    const pod = str(k8s.pod_name);
    const container = str(k8s.container_name);
    const node = str(k8s.host);
    if (pod !== undefined) out.pod = pod;
    if (container !== undefined) out.container = container;
    if (node !== undefined) out.node = node;
    return out;
  },
};
