// `journalctl -o json`: MESSAGE (a string, or an array of bytes when it is not valid UTF-8),
// __REALTIME_TIMESTAMP (microseconds), _HOSTNAME, and Docker's journald driver's CONTAINER_NAME
// (`k8s_<container>_<pod>_<namespace>_<uid>_<attempt>` under the dockershim).

import { str, timeField, type JsonShape, type Unwrapped } from "./types.js";

function messageOf(value: unknown): string | undefined {
  if (typeof value === "string") return value;
  if (Array.isArray(value) && value.every((b) => typeof b === "number")) {
    return Buffer.from(value).toString("utf8");
  }
  return undefined;
}

export const journald: JsonShape = {
  name: "journald",
  kind: "json",
  unwrap(record) {
    const message = messageOf(record.MESSAGE);
    if (message === undefined) return undefined;
    const out: Unwrapped = { message };
    const real = str(record.__REALTIME_TIMESTAMP);
    const timeMs = real === undefined ? undefined : timeField(Number(real) * 1000);
    if (timeMs !== undefined) out.timeMs = timeMs;
    const node = str(record._HOSTNAME);
    if (node !== undefined) out.node = node;
    const name = str(record.CONTAINER_NAME);
    if (name !== undefined) {
      const parts = name.split("_");
      if (parts[0] === "k8s" && parts.length >= 4 && parts[1] && parts[2]) {
        out.container = parts[1];
        out.pod = parts[2];
      } else {
        out.container = name;
      }
    }
    return out;
  },
};
