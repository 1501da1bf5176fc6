// Node built-ins the agent uses, loaded with require() instead of `import` (see kube/builtins.ts for
// why: an ESM import of `crypto` or `child_process` also reads lazy getters that load other
// subsystems). The agent's budget is 50 MB, so it takes only what it calls.

import { createRequire } from "node:module";
import type * as ChildProcess from "node:child_process";
import type * as Crypto from "node:crypto";

export { http, https } from "../kube/builtins.js";

const require = createRequire(import.meta.url);

export const crypto = require("node:crypto") as typeof Crypto;
export const childProcess = require("node:child_process") as typeof ChildProcess;
