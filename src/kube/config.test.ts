import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CoreV1Api } from "@kubernetes/client-node";
import { loadKubeConfig } from "./config.js";

// apply's API calls go through @kubernetes/client-node clients made from this config: against a
// server that accepts and never answers (a frozen apiserver) they must fail after the request
// timeout instead of waiting for the server to resume.
test(
  "clients of a config with requestTimeoutMs give up on a frozen server",
  { timeout: 20_000 },
  async () => {
    const sockets: Socket[] = [];
    const silent = createServer((s) => sockets.push(s));
    await new Promise<void>((r) => silent.listen(0, "127.0.0.1", r));
    const port = (silent.address() as { port: number }).port;
    const dir = await mkdtemp(join(tmpdir(), "kube-config-"));
    try {
      const path = join(dir, "kubeconfig");
      await writeFile(
        path,
        [
          "apiVersion: v1",
          "kind: Config",
          `clusters: [{name: c, cluster: {server: 'http://127.0.0.1:${port}'}}]`,
          "users: [{name: u, user: {token: t}}]",
          "contexts: [{name: x, context: {cluster: c, user: u}}]",
          "current-context: x",
          "",
        ].join("\n"),
      );
      const { config } = loadKubeConfig({ kubeconfig: path, env: {}, requestTimeoutMs: 500 });
      const t0 = Date.now();
      await assert.rejects(config.makeApiClient(CoreV1Api).listNode());
      assert.ok(Date.now() - t0 < 5_000, `took ${Date.now() - t0} ms`);
    } finally {
      for (const s of sockets) s.destroy();
      silent.close();
      await rm(dir, { recursive: true, force: true });
    }
  },
);
