// A loopback proxy in front of the harness apiserver that freezes the real apiserver (SIGSTOP) at
// a chosen request — the first pod log read of a scan, or apply's real (not dry-run) PATCH. With
// `when: "request"` it freezes the server and then forwards the request into it (the server never
// saw it); with `when: "response"` it forwards it, and freezes the server when its answer arrives,
// which it then withholds (the change was made, the client never hears so). So a test freezes the
// server exactly while the request it cares about is in flight, instead of guessing a delay on a
// busy machine. Every request is recorded; the caller always thaws.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { request as httpsRequest } from "node:https";
import { readFileSync } from "node:fs";
import { join } from "node:path";

export interface FreezeProxyOptions {
  /** The harness state dir (for the admin client certificate and CA). */
  stateDir: string;
  apiserverPort: number;
  apiserverPid: number;
  /** The request at which to freeze the apiserver (once). */
  freezeAt: (method: string, path: string) => boolean;
  when?: "request" | "response";
}

export interface FreezeProxy {
  url: string;
  /** Every request seen, as "METHOD path", in arrival order. */
  seen: string[];
  /** When the apiserver was frozen (Date.now()), if it was. */
  frozenAt: number | undefined;
  thaw(): void;
  close(): Promise<void>;
}

export async function startFreezeProxy(opts: FreezeProxyOptions): Promise<FreezeProxy> {
  const pki = join(opts.stateDir, "pki");
  const tls = {
    ca: readFileSync(join(pki, "ca.crt")),
    cert: readFileSync(join(pki, "admin.crt")),
    key: readFileSync(join(pki, "admin.key")),
  };
  const state: { frozenAt: number | undefined; thawed: boolean } = { frozenAt: undefined, thawed: false };
  const seen: string[] = [];

  const freeze = (): void => {
    state.frozenAt = Date.now();
    process.kill(opts.apiserverPid, "SIGSTOP");
  };

  const forward = (req: IncomingMessage, res: ServerResponse, withhold: boolean): void => {
    const headers = { ...req.headers };
    delete headers.host;
    delete headers.authorization;
    const up = httpsRequest(
      { host: "127.0.0.1", port: opts.apiserverPort, method: req.method, path: req.url, headers, ...tls },
      (upRes) => {
        if (withhold) {
          freeze();
          upRes.resume();
          return;
        }
        res.writeHead(upRes.statusCode ?? 502, upRes.headers);
        upRes.pipe(res);
      },
    );
    up.on("error", () => res.destroy());
    res.on("close", () => up.destroy());
    req.pipe(up);
  };

  const server: Server = createServer((req, res) => {
    const method = req.method ?? "GET";
    const path = req.url ?? "/";
    seen.push(`${method} ${path}`);
    const hit = state.frozenAt === undefined && !state.thawed && opts.freezeAt(method, path);
    if (hit && opts.when !== "response") freeze();
    forward(req, res, hit && opts.when === "response");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const addr = server.address();
  const port = typeof addr === "object" && addr !== null ? addr.port : 0;
  const thaw = (): void => {
    state.thawed = true;
    try {
      process.kill(opts.apiserverPid, "SIGCONT");
    } catch {
      // already gone: nothing to thaw
    }
  };
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    get frozenAt() {
      return state.frozenAt;
    },
    thaw,
    close: async () => {
      thaw();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
