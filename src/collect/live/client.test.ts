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
