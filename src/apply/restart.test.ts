import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { KubeClient } from "../kube/client.js";
import type { LogSourceResult } from "../model/logs.js";
import type { RollingRestartStep } from "../model/plan.js";
import { RestartHandler, type RestartLogTarget } from "./restart.js";

const step = {
  id: "restart-kube-system-canal",
  kind: "rolling-restart",
  daemonSet: {
    apiVersion: "apps/v1",
    kind: "DaemonSet",
    plural: "daemonsets",
    namespace: "kube-system",
    name: "canal",
  },
  container: "calico-node",
  maxUnavailable: 1,
  batchTimeoutSeconds: 5,
  onlySymptomatic: true,
  lease: { name: "l", namespace: "kube-system", ttlSeconds: 60 },
} as unknown as RollingRestartStep;

function pod(name: string, node: string): unknown {
  return {
    metadata: {
      name,
      namespace: "kube-system",
      uid: name,
      ownerReferences: [{ kind: "DaemonSet", name: "canal" }],
    },
    spec: { nodeName: node },
  };
}

function scan(status: LogSourceResult["status"], symptom: number, problem?: string): LogSourceResult {
  return {
    source: { kind: "pod", namespace: "kube-system", pod: "p", container: "calico-node", origin: "api" },
    status,
    ...(problem !== undefined ? { problem } : {}),
    scan: {
      bytes: 1,
      lines: 1,
      records: 1,
      formats: [],
      signals: [{ advisoryId: "CNID-1", signatureId: "s", role: "symptom", count: symptom }],
      fingerprints: [],
    },
  } as unknown as LogSourceResult;
}

test("--only-symptomatic picks pods by the injected bounded log scan; a log cut short by an error stops it", async () => {
  const seen: string[] = [];
  const server = createServer((req, res) => {
    seen.push(`${req.method ?? ""} ${req.url ?? ""}`);
    res.writeHead(200, { "content-type": "application/json" });
    if ((req.url ?? "").startsWith("/apis/apps/v1/namespaces/kube-system/daemonsets/canal"))
      res.end(
        JSON.stringify({
          spec: {
            selector: { matchLabels: { "k8s-app": "canal" } },
            template: { spec: { containers: [{ name: "calico-node" }] } },
          },
        }),
      );
    else res.end(JSON.stringify({ items: [pod("a", "n1"), pod("b", "n2"), pod("c", "n3")], metadata: {} }));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as { port: number };
  const client = KubeClient.fromEndpoint(
    { server: `http://127.0.0.1:${port}`, headers: {}, description: "t", context: "t" },
    { timeoutMs: 2000, qps: 1000, burst: 1000, maxSockets: 2 },
  );
  const asked: string[] = [];
  let broken = false;
  const handler = new RestartHandler(client, {
    advisoryId: "CNID-1",
    holder: "test",
    scanLog: (t: RestartLogTarget, container: string) => {
      asked.push(`${t.namespace}/${t.pod}@${t.node ?? "?"} ${container}`);
      if (broken && t.pod === "b") return Promise.resolve(scan("partial", 0, "stream reset"));
      return Promise.resolve(
        t.pod === "b" ? scan("partial", 3, "… stopped at the 16-byte cap (--log-bytes)") : scan("read", 0),
      );
    },
  });
  try {
    const chosen = await handler.targets(step);
    assert.deepEqual(
      chosen.map((p) => (p as { metadata: { name: string } }).metadata.name),
      ["b"],
    );
    assert.deepEqual(asked, [
      "kube-system/a@n1 calico-node",
      "kube-system/b@n2 calico-node",
      "kube-system/c@n3 calico-node",
    ]);
    assert.ok(
      seen.includes("GET /api/v1/namespaces/kube-system/pods?labelSelector=k8s-app%3Dcanal&limit=500"),
    );
    broken = true;
    await assert.rejects(handler.targets(step), { message: "kube-system/b: stream reset" });
  } finally {
    client.close();
    server.close();
  }
});
