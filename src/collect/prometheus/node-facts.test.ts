// The node facts collector against a fake Prometheus HTTP API: it answers each range query with
// the matrix a real server would give for the agent's series, and records what was asked.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { collectNodeFacts, counterIncrease } from "./node-facts.js";
import type { MatrixSeries } from "./client.js";
import type { AgentNodeFacts } from "../../model/snapshot.js";
import { samples, servePrometheus, type PrometheusApi } from "../../../scripts/fixtures/prometheus-api.js";

const END = 1_741_600_000;
const STEP = 15;

/** Samples every step, the last one at END. */
function points(values: readonly number[]): [number, string][] {
  return samples(END, STEP, values);
}

/** Answers by metric name in the query; anything else is an empty matrix. */
const ANSWERS: Record<string, MatrixSeries[]> = {
  cnidoctor_agent_up: [
    { metric: { node: "n1" }, values: points([1, 1, 1]) },
    { metric: { node: "n2" }, values: points([1, 1, 1]) },
    { metric: { node: "n3" }, values: points([1, 1, 1]) },
    { metric: { node: "elsewhere" }, values: points([1, 1, 1]) },
  ],
  cnidoctor_node_fact_read_success: [
    { metric: { node: "n1", fact: "nic_driver" }, values: points([1, 1]) },
    { metric: { node: "n1", fact: "udp_in_csum_errors" }, values: points([1, 1]) },
    { metric: { node: "n1", fact: "kernel_log" }, values: points([1, 1]) },
    { metric: { node: "n2", fact: "nic_driver" }, values: points([1, 1]) },
    { metric: { node: "n2", fact: "udp_in_csum_errors" }, values: points([1, 1]) },
    { metric: { node: "n2", fact: "kernel_log" }, values: points([0, 0]) },
  ],
  cnidoctor_node_nic_info: [
    // The driver changed during the window: the newest series is the one that counts.
    {
      metric: { node: "n1", interface: "ens192", driver: "e1000" },
      values: points([1, 1, 1, 1, 1]).slice(0, 2),
    },
    { metric: { node: "n1", interface: "ens192", driver: "vmxnet3" }, values: points([1, 1]) },
    { metric: { node: "n2", interface: "eth0", driver: "virtio_net" }, values: points([1, 1]) },
    { metric: { node: "elsewhere", interface: "eth0", driver: "vmxnet3" }, values: points([1]) },
  ],
  cnidoctor_node_udp_in_csum_errors_total: [
    // Rises 100 → 104, the node reboots (reset to 0), then 0 → 3: an increase of 7.
    { metric: { node: "n1" }, values: points([100, 102, 104, 0, 3]) },
    { metric: { node: "n2" }, values: points([40, 40, 40]) },
    { metric: { node: "elsewhere" }, values: points([1, 900]) },
  ],
  cnidoctor_node_kernel_log_matches_total: [
    { metric: { node: "n1", condition: "bad-checksum" }, values: points([0, 2, 5]) },
    { metric: { node: "n1", condition: "other" }, values: points([1, 1]) },
  ],
};

let api: PrometheusApi;
let url = "";

before(async () => {
  api = await servePrometheus(ANSWERS);
  url = api.url;
});

after(() => api.close());

test("counter increase counts a drop as a reset to 0", () => {
  assert.deepEqual(counterIncrease([100, 102, 104, 0, 3]), { increase: 7, resets: 1 });
  assert.deepEqual(counterIncrease([5, 5, 5]), { increase: 0, resets: 0 });
  assert.deepEqual(counterIncrease([9]), { increase: 0, resets: 0 });
  assert.deepEqual(counterIncrease([]), { increase: 0, resets: 0 });
});

async function collected(): Promise<AgentNodeFacts[]> {
  const r = await collectNodeFacts({
    target: { url },
    windowSeconds: 3600,
    now: new Date(END * 1000),
    nodes: ["n1", "n2", "n3", "n4"],
  });
  return r.facts;
}

test("a node's facts come from its series, with where and when they were read", async () => {
  const n1 = (await collected()).find((f) => f.node === "n1");
  assert.ok(n1);
  assert.deepEqual(n1.nicDriver, {
    value: "vmxnet3",
    interface: "ens192",
    source: `Prometheus ${url} cnidoctor_node_nic_info{node="n1",interface="ens192",driver="vmxnet3"} at 2025-03-10T09:46:40Z`,
  });
  assert.deepEqual(n1.udpInCsumErrors, {
    first: 100,
    last: 3,
    increase: 7,
    resets: 1,
    source: `Prometheus ${url} cnidoctor_node_udp_in_csum_errors_total{node="n1"} over 2025-03-10T08:46:40Z – 2025-03-10T09:46:40Z`,
  });
  assert.deepEqual(n1.kernelLog?.matches, { "bad-checksum": 5, other: 0 });
  assert.deepEqual(n1.kernelLog.lines, []);
  assert.equal(n1.readAt, "2025-03-10T09:46:40Z");
  assert.deepEqual(n1.source, {
    kind: "prometheus",
    url,
    series: [
      "cnidoctor_node_nic_info",
      "cnidoctor_node_udp_in_csum_errors_total",
      "cnidoctor_node_kernel_log_matches_total",
    ],
    window: { start: "2025-03-10T08:46:40Z", end: "2025-03-10T09:46:40Z" },
  });
  assert.deepEqual(n1.unavailable, {});
  assert.equal(n1.missing, undefined);
});

test("each cluster node gets its facts, or why there are none; other nodes' series are ignored", async () => {
  const r = await collectNodeFacts({
    target: { url },
    windowSeconds: 3600,
    now: new Date(END * 1000),
    nodes: ["n1", "n2", "n3", "n4"],
  });
  assert.deepEqual(
    r.facts.map((f) => [f.node, f.missing ?? "read"]),
    [
      ["n1", "read"],
      ["n2", "read"],
      ["n3", "node-facts-disabled"],
      ["n4", "agent-not-scraped"],
    ],
  );
  const [, n2, n3, n4] = r.facts as [AgentNodeFacts, AgentNodeFacts, AgentNodeFacts, AgentNodeFacts];
  // n2: flat counter, and the agent could not read its kernel log.
  const c2 = n2.udpInCsumErrors;
  assert.deepEqual([c2?.first, c2?.last, c2?.increase], [40, 40, 0]);
  assert.match(n2.unavailable.kernelLog ?? "", /could not read the kernel log .*kernel_log.* is 0/);
  assert.match(
    n3.unavailable.udpInCsumErrorsRising ?? "",
    /scraped but exports no node facts.*without --host-root/,
  );
  assert.match(n4.unavailable.nicDriver ?? "", /no cnidoctor_agent_up series for node n4 in the last 1h/);
  assert.deepEqual(r.gaps, [
    {
      check: "node-agent",
      reason: `Prometheus ${url} has no node facts for 2 of 4 node(s) in the last 1h: no node agent scraped on n4; the node agent runs without node facts (--host-root) on n3`,
      optional: true,
    },
  ]);
  // Range queries over the window with the collector's step, one per series.
  assert.equal(r.queries.length, 5);
  assert.ok(api.asked.every((q) => q.startsWith("/api/v1/query_range ") && q.endsWith(" step=15")));
});

test("an unreachable Prometheus is one optional node-agent gap and no facts", async () => {
  const closed = createServer();
  await new Promise<void>((r) => closed.listen(0, "127.0.0.1", r));
  const port = (closed.address() as AddressInfo).port;
  await new Promise<void>((r) => closed.close(() => r()));
  const r = await collectNodeFacts({
    target: { url: `http://127.0.0.1:${String(port)}`, timeoutMs: 2000 },
    windowSeconds: 600,
    now: new Date(END * 1000),
    nodes: ["n1"],
  });
  assert.deepEqual(r.facts, []);
  assert.equal(r.gaps.length, 1);
  assert.equal(r.gaps[0]?.check, "node-agent");
  assert.match(r.gaps[0]?.reason ?? "", /^node facts from Prometheus: .*ECONNREFUSED/);
});
