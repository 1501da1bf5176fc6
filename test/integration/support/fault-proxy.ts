// A loopback reverse proxy in front of the harness apiserver that misbehaves on purpose: on a fixed
// share of requests it answers 429 (with Retry-After), 500, responds too slowly, or resets the
// connection; chosen paths can fail every time. Everything else is forwarded over TLS with the
// harness admin certificate. Listens on 127.0.0.1 only.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { request as httpsRequest } from "node:https";
import { readFileSync } from "node:fs";
import { join } from "node:path";

export type Fault = "429" | "500" | "slow" | "reset";

export interface FaultProxyOptions {
  /** The harness state dir (for the admin client certificate and CA). */
  stateDir: string;
  apiserverPort: number;
  /** Which fault, if any, the n-th request (0-based) gets. */
  schedule: (n: number) => Fault | undefined;
  /** Requests whose path matches fail with this status every time. */
  alwaysFail: { pattern: RegExp; status: number }[];
  slowMs: number;
}

export interface FaultProxy {
  url: string;
  counts: Record<Fault | "always" | "forwarded", number>;
  close(): Promise<void>;
}

export async function startFaultProxy(opts: FaultProxyOptions): Promise<FaultProxy> {
  const pki = join(opts.stateDir, "pki");
  const tls = {
    ca: readFileSync(join(pki, "ca.crt")),
    cert: readFileSync(join(pki, "admin.crt")),
    key: readFileSync(join(pki, "admin.key")),
  };
  const counts: FaultProxy["counts"] = { "429": 0, "500": 0, slow: 0, reset: 0, always: 0, forwarded: 0 };
  let n = 0;
  const timers = new Set<NodeJS.Timeout>();

  const forward = (req: IncomingMessage, res: ServerResponse): void => {
    counts.forwarded++;
    const headers = { ...req.headers };
    delete headers.host;
    delete headers.authorization;
    const up = httpsRequest(
      { host: "127.0.0.1", port: opts.apiserverPort, method: req.method, path: req.url, headers, ...tls },
      (upRes) => {
        res.writeHead(upRes.statusCode ?? 502, upRes.headers);
        upRes.pipe(res);
      },
    );
    up.on("error", () => res.destroy());
    res.on("close", () => up.destroy());
    req.pipe(up);
  };

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const path = req.url ?? "/";
    const always = opts.alwaysFail.find((a) => a.pattern.test(path));
    if (always) {
      counts.always++;
      res.writeHead(always.status, { "content-type": "application/json" });
      res.end(JSON.stringify({ kind: "Status", message: `injected ${always.status} for ${path}` }));
      return;
    }
    const fault = opts.schedule(n++);
    if (fault === undefined) {
      forward(req, res);
      return;
    }
    counts[fault]++;
    if (fault === "429") {
      res.writeHead(429, { "retry-after": "1", "content-type": "application/json" });
      res.end(JSON.stringify({ kind: "Status", message: "injected: too many requests" }));
    } else if (fault === "500") {
      res.writeHead(500, { "content-type": "application/json" });
      res.end(JSON.stringify({ kind: "Status", message: "injected: internal error" }));
    } else if (fault === "reset") {
      req.socket.destroy();
    } else {
      const t = setTimeout(() => {
        timers.delete(t);
        if (!res.destroyed) forward(req, res);
      }, opts.slowMs);
      timers.add(t);
    }
  };

  const server: Server = createServer(handle);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const addr = server.address();
  const port = typeof addr === "object" && addr !== null ? addr.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    counts,
    close: async () => {
      for (const t of timers) clearTimeout(t);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
