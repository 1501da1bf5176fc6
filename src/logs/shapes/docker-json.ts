// Docker's json-file driver, in any byte layout (`{"log": "...", "stream": "stdout", "time": ...}`
// with spaces, or fields reordered). The exact layout Docker writes is also read by the fast path.
// A line longer than 16 KiB is several records, all but the last without "\n": marked partial here
// and joined by the reader (normalise.ts), as the fast path joins them in Docker's exact layout.

import { chomp, str, timeField, type JsonShape, type Unwrapped } from "./types.js";

export const dockerJson: JsonShape = {
  name: "docker-json",
  kind: "json",
  unwrap(record) {
    const log = str(record.log);
    if (log === undefined || record.kubernetes !== undefined) return undefined;
    const out: Unwrapped = { message: chomp(log) };
    const timeMs = timeField(record.time);
    if (timeMs !== undefined) out.timeMs = timeMs;
    // json-file's contract: every record of a line ends in "\n" but the pieces of a split one.
    const stream = str(record.stream);
    if (stream !== undefined) {
      out.stream = stream;
      out.partial = !log.endsWith("\n");
    }
    return out;
  },
};
