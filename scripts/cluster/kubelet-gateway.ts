// The "kubelets" of the simulated nodes, as the apiserver sees them.
//
// Why this exists: the apiserver refuses to proxy to a node whose address is not global unicast
// (node/proxy rejects 127.0.0.1), and kwok — the only real kubelet endpoint — must listen on
// loopback. So nodes carry realistic private addresses (10.10.x.y:10250), and the apiserver's
// egress selector sends all "cluster" traffic through HTTP CONNECT on this gateway's unix socket.
// The gateway knows which node each tunnel is for (from the CONNECT target), terminates TLS,
// rewrites the request head where kwok needs the node's name, and splices the rest to kwok on
// 127.0.0.1:
//   /metrics/...                      -> /metrics/nodes/<node>/metrics/...  (kwok Metric paths)
//   /containerLogs/<ns>/<pod>/<c>     -> /containerLogs/<ns>/<node>/<c>     (per-node log rules)
// Everything else (exec, attach, port-forward, healthz) passes through unchanged.
//
// The response is never parsed. kwok, like the kubelet, flushes container logs a line at a time;
// parsing that as HTTP made this gateway — which a real cluster does not have — one of the busiest
// processes of a log-heavy scan. Spliced, one socket read carries whatever kwok wrote meanwhile.
//
// Run: node kubelet-gateway.js <config.json>
import { connect as netConnect, createServer as createNetServer } from "node:net";
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
 * Copies a stream in large writes. After each read the source rests for `restMs`, so what kwok
 * flushes line by line meanwhile piles up in the socket and comes back in one read: per line, a
 * read here, a TLS record here and in the apiserver, and a TCP segment from kwok were the costs
 * that made this gateway (which a real cluster does not have) one of the busiest processes in a
 * log-heavy scan. Pieces are written together up to `maxBytes`; backpressure still pauses the
 * source.
 */
export function pipeCoalesced(
  source: Readable,
  sink: Writable,
  { maxBytes = 256 * 1024, restMs = 1 }: { maxBytes?: number; restMs?: number } = {},
): void {
  let parts: Buffer[] = [];
  let size = 0;
  let scheduled = false;
  let draining = false;
  const flush = (): void => {
    scheduled = false;
    if (size > 0) {
      const chunk = parts.length === 1 ? (parts[0] ?? Buffer.alloc(0)) : Buffer.concat(parts, size);
      parts = [];
      size = 0;
      if (!sink.write(chunk)) {
        draining = true;
        source.pause();
        sink.once("drain", () => {
          draining = false;
          source.resume();
        });
        return;
      }
    }
    if (!draining) source.resume();
  };
  source.on("data", (piece: Buffer) => {
    parts.push(piece);
    size += piece.length;
    if (size >= maxBytes) flush();
    else if (!scheduled) {
      scheduled = true;
      // Whatever the source has buffered comes in this turn; then it rests.
      setImmediate(() => {
        source.pause();
        setTimeout(flush, restMs);
      });
    }
  });
  source.on("end", () => {
    flush();
    sink.end();
  });
  source.on("error", () => sink.destroy());
}

const MAX_HEAD_BYTES = 64 * 1024;

/**
 * Waits for an HTTP head (up to the blank line) at the start of a stream, then hands it over with
 * whatever followed it, synchronously, so the callback can pause the stream before more is lost. A
 * stream that sends more than 64 KiB without a blank line is dropped.
 */
export function onHead(stream: Duplex, ready: (head: string, rest: Buffer) => void): void {
  let buffered: Buffer = Buffer.alloc(0);
  const onData = (chunk: Buffer): void => {
    buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
    const end = buffered.indexOf("\r\n\r\n");
    if (end < 0) {
      if (buffered.length > MAX_HEAD_BYTES) stream.destroy();
      return;
    }
    stream.off("data", onData);
    ready(buffered.subarray(0, end).toString("latin1"), buffered.subarray(end + 4));
  };
  stream.on("data", onData);
}

/**
 * The request head as kwok should see it: the path keyed by node and, unless the request upgrades
 * to a stream, `Connection: close`. One request per tunnel is what lets the response be spliced
 * without parsing it; the apiserver dials each node afresh anyway.
 */
export function rewriteHead(head: string, node: string): string {
  const [requestLine = "", ...headers] = head.split("\r\n");
  const [method = "GET", target = "/", version = "HTTP/1.1"] = requestLine.split(" ");
  const upgrades = headers.some((h) => /^upgrade\s*:/i.test(h));
  const kept = upgrades
    ? headers
    : [...headers.filter((h) => !/^(connection|keep-alive)\s*:/i.test(h)), "Connection: close"];
  return `${[`${method} ${rewritePath(target, node)} ${version}`, ...kept].join("\r\n")}\r\n\r\n`;
}

/** Serves the one request of a decrypted tunnel by splicing it to kwok. */
function spliceToKwok(client: Duplex, node: string, kwokPort: number): void {
  onHead(client, (head, rest) => {
    client.pause();
    const up = netConnect({ host: "127.0.0.1", port: kwokPort }, () => {
      up.write(rewriteHead(head, node), "latin1");
      if (rest.length > 0) up.write(rest);
      // Not ended when the client half-closes: Go's server takes EOF as the client being gone and
      // cancels the request.
      client.pipe(up, { end: false });
      pipeCoalesced(up, client);
    });
    up.on("error", (err) => {
      if (up.bytesRead > 0) client.destroy();
      else
        client.end(`HTTP/1.1 502 Bad Gateway\r\nConnection: close\r\n\r\nkubelet gateway: ${err.message}\n`);
    });
    client.on("error", () => up.destroy());
    client.on("close", () => up.destroy());
  });
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
  const secureContext = createSecureContext({
    cert: readFileSync(config.certFile),
    key: readFileSync(config.keyFile),
  });

  const tunnel = (sock: Duplex): void => {
    sock.on("error", () => sock.destroy());
    onHead(sock, (head, rest) => {
      const requestLine = head.split("\r\n")[0] ?? "";
      const target = /^CONNECT (\S+) HTTP\/1\.[01]$/.exec(requestLine)?.[1] ?? "";
      const host = target.replace(/:\d+$/, "").replace(/^\[|\]$/g, "");
      const node = nodes.lookup(host);
      if (node === undefined) {
        sock.end(`HTTP/1.1 404 Not Found\r\n\r\nno simulated node has address ${host}\n`);
        return;
      }
      sock.write("HTTP/1.1 200 Connection established\r\n\r\n");
      if (rest.length > 0) sock.unshift(rest);
      const tls = new TLSSocket(sock, { isServer: true, secureContext });
      tls.on("error", () => sock.destroy());
      spliceToKwok(tls, node, config.kwokPort);
    });
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
