// Node built-ins the agent uses, loaded with require() instead of `import`. Since Node 22 an ESM
// import of a built-in builds its module namespace by reading every export, and some exports of
// `http`, `https`, `crypto` and `child_process` are lazy getters that load other subsystems (undici,
// http2, perf_hooks, worker_threads…): on Node 24, `import "node:http"` alone costs ~12 MB RSS,
// require("node:http") ~2 MB. The agent's budget is 50 MB, so it takes only what it calls.

import { createRequire } from "node:module";
import type * as ChildProcess from "node:child_process";
import type * as Crypto from "node:crypto";
import type * as Http from "node:http";
import type * as Https from "node:https";

const require = createRequire(import.meta.url);

export const http = require("node:http") as typeof Http;
export const https = require("node:https") as typeof Https;
export const crypto = require("node:crypto") as typeof Crypto;
export const childProcess = require("node:child_process") as typeof ChildProcess;
