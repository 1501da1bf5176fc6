// Elasticsearch / Kibana exports: `message`, `@timestamp`, and ECS or Beats fields for the pod and
// node (kubernetes.pod.name, kubernetes.container.name, kubernetes.node.name, host.name). A search
// hit (`{"_source": {...}}`) is unwrapped by the normaliser before the shapes see it.

import { obj, str, timeField, type JsonShape, type Unwrapped } from "./types.js";

function path(record: Record<string, unknown>, ...keys: string[]): string | undefined {
  let at: unknown = record;
  for (const key of keys) at = obj(at)?.[key];
  return str(at);
}

export const elastic: JsonShape = {
  name: "elastic",
  kind: "json",
  unwrap(record) {
    const message = str(record.message);
    if (message === undefined) return undefined;
    const out: Unwrapped = { message };
    const timeMs = timeField(record["@timestamp"] ?? record.timestamp);
    if (timeMs !== undefined) out.timeMs = timeMs;
    const pod = path(record, "kubernetes", "pod", "name") ?? path(record, "kubernetes", "pod_name");
    const container =
      path(record, "kubernetes", "container", "name") ?? path(record, "kubernetes", "container_name");
    const node =
      path(record, "kubernetes", "node", "name") ?? path(record, "host", "name") ?? str(record.host);
    if (pod !== undefined) out.pod = pod;
    if (container !== undefined) out.container = container;
    if (node !== undefined) out.node = node;
    return out;
  },
};
