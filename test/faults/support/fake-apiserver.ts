// The smallest API server collect can talk to: every GET answers an empty list, logs are empty.
// Enough to drive collect's file-system sequence; the cluster's content is not what is under test.

import { createServer, type Server } from "node:http";
import { writeFile } from "node:fs/promises";
import type { AddressInfo } from "node:net";

export interface FakeApiserver {
  kubeconfig: string;
  close(): Promise<void>;
}

export async function startFakeApiserver(kubeconfigPath: string): Promise<FakeApiserver> {
  const server: Server = createServer((req, res) => {
    if ((req.url ?? "").includes("/log")) {
      res.writeHead(200, { "content-type": "text/plain", connection: "close" });
      res.end("");
      return;
    }
    res.writeHead(200, { "content-type": "application/json", connection: "close" });
    res.end(JSON.stringify({ kind: "List", apiVersion: "v1", metadata: {}, items: [] }));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  await writeFile(
    kubeconfigPath,
    [
      "apiVersion: v1",
      "kind: Config",
      "clusters: [{name: fake, cluster: {server: 'http://127.0.0.1:" +
        String(port) +
        "', insecure-skip-tls-verify: true}}]",
      "users: [{name: fake, user: {token: fake}}]",
      "contexts: [{name: fake, context: {cluster: fake, user: fake}}]",
      "current-context: fake",
      "",
    ].join("\n"),
  );
  return {
    kubeconfig: kubeconfigPath,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
