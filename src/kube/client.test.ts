import { test } from "node:test";
import assert from "node:assert/strict";
import { KubeClient } from "./client.js";

function timers(): number {
  return process.getActiveResourcesInfo().filter((r) => r === "Timeout").length;
}

test("abort() ends a pending wait and clears its timer, so nothing holds the process open", async () => {
  const client = KubeClient.fromEndpoint(
    { server: "http://127.0.0.1:9", headers: {}, description: "test", context: "test" },
    { timeoutMs: 1000, qps: 1, burst: 1, maxSockets: 1 },
  );
  const before = timers();
  const t0 = Date.now();
  const wait = client.sleep(600_000);
  assert.equal(timers(), before + 1);
  client.abort("the overall --timeout of 1 s ran out");
  await wait;
  assert.ok(Date.now() - t0 < 1000);
  assert.equal(timers(), before, "the 10-minute timer is still armed after abort()");
  // Later waits and requests end at once, with the reason.
  await client.sleep(600_000);
  const r = await client.getJson("/api/v1/nodes");
  assert.equal(r.ok, false);
  assert.match(r.ok ? "" : r.problem, /not read: the overall --timeout of 1 s ran out/);
  client.close();
});

async function freePort(): Promise<number> {
  const { createServer } = await import("node:net");
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const { port } = s.address() as { port: number };
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

const slowRetry = { attempts: 5, baseDelayMs: 2000, maxDelayMs: 8000, random: () => 0.99 };

test("a server that never answered in this run is not retried: refused fails at once", async () => {
  const port = await freePort();
  const client = KubeClient.fromEndpoint(
    { server: `http://127.0.0.1:${port}`, headers: {}, description: "test", context: "test" },
    { timeoutMs: 5000, qps: 100, burst: 100, maxSockets: 4, retry: slowRetry },
  );
  const t0 = Date.now();
  const r = await client.getJson("/api/v1/nodes");
  assert.equal(r.ok, false);
  assert.match(r.ok ? "" : r.problem, /ECONNREFUSED\)$/);
  assert.equal(client.stats.requests, 1);
  assert.equal(client.stats.retries, 0);
  assert.ok(Date.now() - t0 < 1500, `took ${Date.now() - t0} ms`);
  client.close();
});

test("a server that answered once and then refuses is still retried with backoff", async () => {
  const { createServer } = await import("node:http");
  const server = createServer((_req, res) => {
    res.writeHead(200, { "content-type": "application/json", connection: "close" });
    res.end("{}");
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as { port: number };
  const client = KubeClient.fromEndpoint(
    { server: `http://127.0.0.1:${port}`, headers: {}, description: "test", context: "test" },
    {
      timeoutMs: 5000,
      qps: 100,
      burst: 100,
      maxSockets: 4,
      retry: { attempts: 3, baseDelayMs: 20, maxDelayMs: 40, random: () => 0.5 },
    },
  );
  assert.equal((await client.getJson("/api/v1/nodes")).ok, true);
  await new Promise<void>((r) => server.close(() => r()));
  const r = await client.getJson("/api/v1/nodes");
  assert.equal(r.ok, false);
  assert.match(r.ok ? "" : r.problem, /ECONNREFUSED\) after 3 attempts$/);
  assert.equal(client.stats.retries, 2);
  client.close();
});
