// The "kubelets" of the simulated nodes, as the apiserver sees them.
//
// Why this exists: the apiserver refuses to proxy to a node whose address is not global unicast
// (node/proxy rejects 127.0.0.1), and kwok — the only real kubelet endpoint — must listen on
// loopback. So nodes carry realistic private addresses (10.10.x.y:10250), and the apiserver's
// egress selector sends all "cluster" traffic through HTTP CONNECT on this gateway's unix socket.
// The gateway knows which node each tunnel is for (from the CONNECT target), terminates TLS, and
// forwards to kwok on 127.0.0.1, adapting the two paths where kwok needs the node's name:
//   /metrics/...                      -> /metrics/nodes/<node>/metrics/...  (kwok Metric paths)
//   /containerLogs/<ns>/<pod>/<c>     -> /containerLogs/<ns>/<node>/<c>     (per-node log rules)
// Everything else (exec, attach, port-forward, healthz) passes through unchanged.
//
// Run: node kubelet-gateway.js <config.json>
import {
  Agent as HttpAgent,
  createServer as createHttpServer,
  request as httpRequest,
  type IncomingMessage,
  type ServerResponse,
} from "node:http";
import { connect as netConnect, createServer as createNetServer, type Socket } from "node:net";
import { createSecureContext, TLSSocket } from "node:tls";
import { readFileSync, rmSync, statSync } from "node:fs";
import type { Duplex, Readable, Writable } from "node:stream";

export interface GatewayConfig {
  socketPath: string;
  kwokPort: number;
  certFile: string;
  keyFile: string;
  /** JSON object mapping node IP -> node name, rewritten by the harness when nodes change. */
  nodeMapFile: string;
}

export function rewritePath(path: string, node: string): string {
  const logs = /^\/containerLogs\/([^/]+)\/([^/]+)\/([^/?]+)(.*)$/.exec(path);
  if (logs)
    return `/containerLogs/${logs[1] ?? ""}/${encodeURIComponent(node)}/${logs[3] ?? ""}${logs[4] ?? ""}`;
  if (
    (path === "/metrics" || path.startsWith("/metrics/") || path.startsWith("/metrics?")) &&
    !path.startsWith("/metrics/nodes/")
  ) {
    return `/metrics/nodes/${encodeURIComponent(node)}${path}`;
  }
  return path;
}

/**
 * Copies a response body in large writes. kwok sends container logs in small pieces (about a line
 * each), and piped one by one every piece costs a TLS record and an HTTP chunk here, in the
 * apiserver and in the client: measured, that made this gateway — which a real cluster does not
 * have — the busiest process in a log-heavy scan. Pieces that arrive within one turn of the event
 * loop (or up to 256 KiB) are written together; backpressure still pauses the source.
 */
export function pipeCoalesced(source: Readable, sink: Writable, maxBytes = 256 * 1024): void {
  let parts: Buffer[] = [];
  let size = 0;
  let scheduled = false;
  const flush = (): void => {
    scheduled = false;
    if (size === 0) return;
    const chunk = parts.length === 1 ? (parts[0] ?? Buffer.alloc(0)) : Buffer.concat(parts, size);
    parts = [];
    size = 0;
    if (!sink.write(chunk)) {
      source.pause();
      sink.once("drain", () => source.resume());
    }
  };
  source.on("data", (piece: Buffer) => {
    parts.push(piece);
    size += piece.length;
    if (size >= maxBytes) flush();
    else if (!scheduled) {
      scheduled = true;
      setImmediate(flush);
    }
  });
  source.on("end", () => {
    flush();
    sink.end();
  });
  source.on("error", () => sink.destroy());
}

class NodeMap {
  private names = new Map<string, string>();
  private mtimeMs = -1;

  constructor(private readonly file: string) {}

  lookup(ip: string): string | undefined {
    const mtime = statSync(this.file, { throwIfNoEntry: false })?.mtimeMs ?? -1;
    if (mtime !== this.mtimeMs) {
      this.mtimeMs = mtime;
      const parsed = mtime < 0 ? {} : (JSON.parse(readFileSync(this.file, "utf8")) as Record<string, string>);
      this.names = new Map(Object.entries(parsed));
    }
    return this.names.get(ip);
  }
}

function main(configPath: string): void {
  const config = JSON.parse(readFileSync(configPath, "utf8")) as GatewayConfig;
  const nodes = new NodeMap(config.nodeMapFile);
  const kwokAgent = new HttpAgent({ keepAlive: true, maxSockets: 256 });
  const secureContext = createSecureContext({
    cert: readFileSync(config.certFile),
    key: readFileSync(config.keyFile),
  });
  const nodeOfSocket = new WeakMap<object, string>();

  const forward = (req: IncomingMessage, res: ServerResponse): void => {
    const node = nodeOfSocket.get(req.socket) ?? "";
    const upstream = httpRequest(
      {
        host: "127.0.0.1",
        port: config.kwokPort,
        method: req.method,
        path: rewritePath(req.url ?? "/", node),
        headers: req.headers,
        agent: kwokAgent,
      },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        pipeCoalesced(up, res);
      },
    );
    upstream.on("error", (err) => {
      if (!res.headersSent) res.writeHead(502, { "content-type": "text/plain" });
      res.end(`kubelet gateway: ${err.message}\n`);
    });
    res.on("close", () => upstream.destroy());
    req.pipe(upstream);
  };

  // Streaming protocols (exec/attach/port-forward) upgrade the connection: splice raw bytes.
  const upgrade = (req: IncomingMessage, client: Duplex, head: Buffer): void => {
    const node = nodeOfSocket.get(req.socket) ?? "";
    const up = netConnect({ host: "127.0.0.1", port: config.kwokPort }, () => {
      const lines = [`${req.method ?? "GET"} ${rewritePath(req.url ?? "/", node)} HTTP/1.1`];
      for (let i = 0; i < req.rawHeaders.length; i += 2)
        lines.push(`${req.rawHeaders[i] ?? ""}: ${req.rawHeaders[i + 1] ?? ""}`);
      up.write(`${lines.join("\r\n")}\r\n\r\n`);
      up.write(head);
      up.pipe(client).pipe(up);
    });
    up.on("error", () => client.destroy());
    client.on("error", () => up.destroy());
  };

  const http = createHttpServer(forward);
  http.on("upgrade", upgrade);

  const tunnel = (sock: Socket): void => {
    let buffered = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      buffered = Buffer.concat([buffered, chunk]);
      const end = buffered.indexOf("\r\n\r\n");
      if (end < 0) {
        if (buffered.length > 16_384) sock.destroy();
        return;
      }
      sock.off("data", onData);
      const requestLine = buffered.subarray(0, end).toString("latin1").split("\r\n")[0] ?? "";
      const target = /^CONNECT (\S+) HTTP\/1\.[01]$/.exec(requestLine)?.[1] ?? "";
      const host = target.replace(/:\d+$/, "").replace(/^\[|\]$/g, "");
      const node = nodes.lookup(host);
      if (node === undefined) {
        sock.end(`HTTP/1.1 404 Not Found\r\n\r\nno simulated node has address ${host}\n`);
        return;
      }
      sock.write("HTTP/1.1 200 Connection established\r\n\r\n");
      const rest = buffered.subarray(end + 4);
      if (rest.length > 0) sock.unshift(rest);
      const tls = new TLSSocket(sock, { isServer: true, secureContext });
      nodeOfSocket.set(tls, node);
      tls.on("error", () => sock.destroy());
      http.emit("connection", tls);
    };
    sock.on("data", onData);
    sock.on("error", () => sock.destroy());
  };

  rmSync(config.socketPath, { force: true });
  const server = createNetServer(tunnel);
  server.listen(config.socketPath, () => {
    console.log(
      `kubelet gateway listening on ${config.socketPath}, forwarding to 127.0.0.1:${config.kwokPort}`,
    );
  });
  const stop = (): void => {
    server.close();
    rmSync(config.socketPath, { force: true });
    process.exit(0);
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}

const configArg = process.argv[2];
if (process.argv[1]?.endsWith("kubelet-gateway.js") === true) {
  if (configArg === undefined) {
    console.error("usage: kubelet-gateway.js <config.json>");
    process.exit(2);
  }
  main(configArg);
}
