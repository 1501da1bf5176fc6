import { test } from "node:test";
import assert from "node:assert/strict";
import { KubeClient, timedOut, type ClientOptions } from "./client.js";

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

interface Seen {
  method: string;
  url: string;
  type: string | undefined;
  auth: string | undefined;
  body: string;
}

/** A server that records every request and answers with `answer` (undefined: never answers). */
async function recordingServer(
  answer: (req: Seen) => { status: number; body: unknown } | undefined,
): Promise<{ url: string; seen: Seen[]; close: () => Promise<void> }> {
  const { createServer } = await import("node:http");
  const seen: Seen[] = [];
  const server = createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on("data", (d: Buffer) => parts.push(d));
    req.on("end", () => {
      const s: Seen = {
        method: req.method ?? "",
        url: req.url ?? "",
        type: req.headers["content-type"],
        auth: req.headers.authorization,
        body: Buffer.concat(parts).toString("utf8"),
      };
      seen.push(s);
      const a = answer(s);
      if (a === undefined) return;
      res.writeHead(a.status, { "content-type": "application/json" });
      res.end(JSON.stringify(a.body));
    });
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

const quickRetry = { attempts: 4, baseDelayMs: 1, maxDelayMs: 2, random: () => 0.5 };

function clientFor(url: string, extra: Partial<ClientOptions> = {}): KubeClient {
  return KubeClient.fromEndpoint(
    { server: url, headers: { Authorization: "Bearer static" }, description: "test", context: "test" },
    { timeoutMs: 300, qps: 1000, burst: 1000, maxSockets: 2, retry: quickRetry, ...extra },
  );
}

test("writes: verbs, content types, dry-run and field manager as query parameters", async () => {
  const server = await recordingServer(() => ({ status: 200, body: { kind: "X" } }));
  const client = clientFor(server.url);
  try {
    assert.equal(
      (await client.patch("/a/x", { b: 1 }, "strategic", { dryRun: true, fieldManager: "cnidoctor" })).ok,
      true,
    );
    assert.equal((await client.patch("/a/x", { b: 1 }, "merge")).ok, true);
    assert.equal((await client.create("/a", { c: 1 }, { fieldManager: "cnidoctor" })).ok, true);
    assert.equal((await client.replace("/a/x", { d: 1 })).ok, true);
    assert.equal((await client.delete("/a/x", { preconditions: { resourceVersion: "7" } })).ok, true);
    assert.deepEqual(
      server.seen.map((s) => `${s.method} ${s.url} ${s.type ?? "-"} ${s.body}`),
      [
        'PATCH /a/x?dryRun=All&fieldManager=cnidoctor application/strategic-merge-patch+json {"b":1}',
        'PATCH /a/x application/merge-patch+json {"b":1}',
        'POST /a?fieldManager=cnidoctor application/json {"c":1}',
        'PUT /a/x application/json {"d":1}',
        'DELETE /a/x application/json {"preconditions":{"resourceVersion":"7"}}',
      ],
    );
  } finally {
    client.close();
    await server.close();
  }
});

test("a write that may have reached the server is sent once; a 429 (refused unprocessed) is retried", async () => {
  let busy = 0;
  const server = await recordingServer((s) =>
    s.url.startsWith("/busy") && ++busy < 3
      ? { status: 429, body: { message: "slow down" } }
      : s.url.startsWith("/err")
        ? { status: 500, body: { message: "etcd hiccup" } }
        : s.url.startsWith("/hang")
          ? undefined
          : { status: 200, body: {} },
  );
  const client = clientFor(server.url);
  try {
    const failed = await client.patch("/err", {}, "merge");
    assert.deepEqual(failed.ok ? undefined : [failed.status, failed.message, failed.problem], [
      500,
      "etcd hiccup",
      "PATCH /err: HTTP 500: etcd hiccup",
    ]);
    const hung = await client.create("/hang", {});
    assert.equal(hung.ok ? undefined : hung.code, "TIMEOUT");
    assert.equal(hung.ok ? false : timedOut(hung), true);
    assert.equal((await client.create("/busy", {})).ok, true);
    // A dry-run changes nothing: retried like a read.
    const dry = await client.patch("/err", {}, "merge", { dryRun: true });
    assert.match(dry.ok ? "" : dry.problem, /after 4 attempts$/);
    assert.deepEqual(
      server.seen.map((s) => `${s.method} ${s.url}`),
      [
        "PATCH /err",
        "POST /hang",
        "POST /busy",
        "POST /busy",
        "POST /busy",
        ...Array<string>(4).fill("PATCH /err?dryRun=All"),
      ],
    );
  } finally {
    client.close();
    await server.close();
  }
});

test("a token source replaces the endpoint's Authorization on every request (rotation)", async () => {
  const server = await recordingServer(() => ({ status: 200, body: {} }));
  let n = 0;
  const client = clientFor(server.url, { token: () => Promise.resolve(`t${++n}`) });
  try {
    await client.getJson("/x");
    await client.getJson("/x");
    assert.deepEqual(
      server.seen.map((s) => s.auth),
      ["Bearer t1", "Bearer t2"],
    );
  } finally {
    client.close();
    await server.close();
  }
});
