// stern: `POD CONTAINER message` on every line (colours are removed before shapes see a line).
// Only trusted when the plan saw it in the head of the capture: "word word text" is also prose.

import type { TextShape } from "./types.js";

// A pod name with a generated suffix (DaemonSet `-xxxxx`, ReplicaSet `-hash-xxxxx`), a container name.
const PREFIX = /^([a-z0-9](?:[-a-z0-9.]*[a-z0-9])?-[a-z0-9]{5}) ([a-z0-9](?:[-a-z0-9]*[a-z0-9])?) /;

export const stern: TextShape = {
  name: "stern",
  kind: "text",
  onlyWhenPlanned: true,
  unwrap(line) {
    const m = PREFIX.exec(line);
    if (m === null || m[1] === undefined || m[2] === undefined) return undefined;
    return { message: line.slice(m[0].length), pod: m[1], container: m[2] };
  },
};
