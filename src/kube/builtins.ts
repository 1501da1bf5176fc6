// node:http and node:https loaded with require() instead of `import`. Since Node 22 an ESM import of
// a built-in builds its module namespace by reading every export, and some exports of `http` and
// `https` are lazy getters that load other subsystems (undici, http2, perf_hooks…): on Node 24,
// `import "node:http"` alone costs ~12 MB RSS, require("node:http") ~2 MB. The agent (50 MB budget)
// talks to the API server through this package's client, so the client takes only what it calls.

import { createRequire } from "node:module";
import type * as Http from "node:http";
import type * as Https from "node:https";

const require = createRequire(import.meta.url);

export const http = require("node:http") as typeof Http;
export const https = require("node:https") as typeof Https;
