// Docker's json-file driver, in any byte layout (`{"log": "...", "stream": "stdout", "time": ...}`
// with spaces, or fields reordered). The exact layout Docker writes is also read by the fast path.

import { chomp, str, timeField, type JsonShape } from "./types.js";

export const dockerJson: JsonShape = {
  name: "docker-json",
  kind: "json",
  unwrap(record) {
    const log = str(record.log);
    if (log === undefined || record.kubernetes !== undefined) return undefined;
    const timeMs = timeField(record.time);
    return timeMs === undefined ? { message: chomp(log) } : { message: chomp(log), timeMs };
  },
};
