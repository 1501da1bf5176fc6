import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { KubeClient } from "../kube/client.js";
import type { KubePatchStep } from "../model/plan.js";
import type { BackupSession } from "./backup-store.js";
import { KubeObjectHandler } from "./kube-objects.js";
import { microTime } from "./lease.js";

const FELIX = { apiVersion: "crd.projectcalico.org/v1", kind: "FelixConfiguration", name: "default" };
const REF = { ...FELIX, plural: "felixconfigurations" };

const step: KubePatchStep = {
  id: "felix-disable-xdp",
  remediationId: "r",
  title: "t",
  summary: "s",
  notes: [],
  diff: "",
  default: true,
  kind: "kube-patch",
  target: REF,
  patchType: "merge",
  patch: { spec: { xdpEnabled: false } },
  expect: [{ path: ["spec", "xdpEnabled"], value: false }],
} as unknown as KubePatchStep;

/** The FelixConfiguration and dry-runs answered; a real PATCH never answered (a freeze). */
async function apiserver(): Promise<{ url: string; seen: string[]; close: () => Promise<void> }> {
  const seen: string[] = [];
  const server = createServer((req, res) => {
    seen.push(`${req.method ?? ""} ${req.url ?? ""}`);
    const json = (status: number, body: unknown): void => {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(body));
    };
    const url = req.url ?? "";
    if (url.startsWith("/apis/crd.projectcalico.org/v1/felixconfigurations/default")) {
      if (req.method === "GET") return json(200, { ...FELIX, metadata: { name: "default" }, spec: {} });
      if (url.includes("dryRun=All")) return json(200, { ...FELIX, spec: { xdpEnabled: false } });
      return undefined; // the real write: no answer
    }
    return json(403, { kind: "Status", message: "forbidden here" });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

test("kube-patch through the project's client: dry-run first, a lost write said truthfully and sent once", async () => {
  const api = await apiserver();
  const client = KubeClient.fromEndpoint(
    { server: api.url, headers: {}, description: "test", context: "test" },
    { timeoutMs: 500, qps: 1000, burst: 1000, maxSockets: 2 },
  );
  const handler = new KubeObjectHandler(client);
  try {
    assert.equal(await handler.inspect(step), "pending");
    await handler.rehearse(step);
    await assert.rejects(
      handler.apply(
        step,
        { stepId: step.id, kind: step.kind, state: "backed-up" },
        undefined as unknown as BackupSession,
      ),
      {
        message:
          "patching FelixConfiguration default: no answer within 0.5 s (--request-timeout); the change may or may not have been made (the backup holds the object as it was)",
      },
    );
    const writes = api.seen.filter((s) => s.startsWith("PATCH"));
    assert.deepEqual(writes, [
      "PATCH /apis/crd.projectcalico.org/v1/felixconfigurations/default?dryRun=All&fieldManager=cnidoctor",
      "PATCH /apis/crd.projectcalico.org/v1/felixconfigurations/default?fieldManager=cnidoctor",
    ]);
    await assert.rejects(
      handler.read({ apiVersion: "v1", kind: "ConfigMap", plural: "configmaps", namespace: "x", name: "y" }),
      { message: "reading ConfigMap x/y: forbidden here" },
    );
  } finally {
    client.close();
    await api.close();
  }
});

test("Lease times are MicroTime: six fractional digits, as the API server parses them", () => {
  assert.equal(microTime(new Date("2026-01-02T03:04:05.678Z")), "2026-01-02T03:04:05.678000Z");
});
