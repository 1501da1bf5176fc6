// The agent's HTTP endpoint: GET /metrics (Prometheus text format) and GET /healthz.

import type { Server } from "node:http";
import { http } from "./builtins.js";
import type { AddressInfo } from "node:net";
import { EXPOSITION_CONTENT_TYPE, type Registry } from "./metrics.js";

export interface MetricsServer {
  server: Server;
  address: AddressInfo;
  close(): Promise<void>;
}

export async function startMetricsServer(
  host: string,
  port: number,
  registry: Registry,
  healthy: () => boolean,
): Promise<MetricsServer> {
  const server = http.createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { Allow: "GET, HEAD" }).end();
    } else if (path === "/metrics") {
      res.writeHead(200, { "Content-Type": EXPOSITION_CONTENT_TYPE }).end(registry.render());
    } else if (path === "/healthz") {
      const ok = healthy();
      res
        .writeHead(ok ? 200 : 503, { "Content-Type": "text/plain" })
        .end(ok ? "ok\n" : "scan loop stalled\n");
    } else {
      res.writeHead(404, { "Content-Type": "text/plain" }).end("not found: try /metrics or /healthz\n");
    }
  });
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  return {
    server,
    address,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
