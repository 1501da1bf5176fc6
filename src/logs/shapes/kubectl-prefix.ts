// `kubectl logs --prefix` (e.g. `-l k8s-app=calico-node --prefix`): `[pod/NAME/CONTAINER] ` before
// every line.

import type { TextShape } from "./types.js";

const PREFIX = /^\[pod\/([^/\] ]+)\/([^\] ]+)\] ?/;

export const kubectlPrefix: TextShape = {
  name: "kubectl-prefix",
  kind: "text",
  unwrap(line) {
    if (!line.startsWith("[pod/")) return undefined;
    const m = PREFIX.exec(line);
    if (m === null || m[1] === undefined || m[2] === undefined) return undefined;
    return { message: line.slice(m[0].length), pod: m[1], container: m[2] };
  },
};
