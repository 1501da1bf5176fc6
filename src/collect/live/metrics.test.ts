import { describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  parsePrometheusText,
  parseQuantity,
  readingsFromKubelet,
  readingsFromMetricsApi,
  seriesFromReadings,
} from "./metrics.js";

const KUBELET = `# HELP container_cpu_usage_seconds_total Cumulative cpu time consumed by the container in core-seconds
# TYPE container_cpu_usage_seconds_total counter
container_cpu_usage_seconds_total{container="calico-node",namespace="kube-system",pod="canal-a"} 100.5 1700000000000
container_cpu_usage_seconds_total{container="kube-flannel",namespace="kube-system",pod="canal-a"} 3 1700000000000
container_cpu_usage_seconds_total{container="calico-node",namespace="kube-system",pod="other"} 7 1700000000000
container_memory_working_set_bytes{container="calico-node",namespace="kube-system",pod="canal-a"} 2.04485048715e+08 1700000000000
node_cpu_usage_seconds_total 65.2
`;

describe("prometheus text", () => {
  test("keeps wanted names, labels (escapes included) and optional timestamps", () => {
    const s = parsePrometheusText(
      'm{a="x\\"y",b="1"} 2 1000\nm 3\nother{a="z"} 4\n# m 9\nm{a="bad"} NaNx\n',
      new Set(["m"]),
    );
    assert.deepEqual(s, [
      { name: "m", labels: { a: 'x"y', b: "1" }, value: 2, timestampMs: 1000 },
      { name: "m", labels: {}, value: 3 },
    ]);
  });

  test("kubelet readings only for the target pods' calico-node container", () => {
    const r = readingsFromKubelet(
      KUBELET,
      "calico-node",
      [{ node: "n1", namespace: "kube-system", pod: "canal-a" }],
      5,
    );
    assert.deepEqual(
      [...r.entries()],
      [["kube-system/canal-a", { t: 1700000000000, cpuSecondsTotal: 100.5, memoryBytes: 204485048.715 }]],
    );
  });
});

describe("quantities", () => {
  test("CPU and memory forms", () => {
    assert.equal(parseQuantity("250m"), 0.25);
    assert.ok(Math.abs((parseQuantity("123456789n") ?? Number.NaN) - 0.123456789) < 1e-15);
    assert.equal(parseQuantity("2"), 2);
    assert.equal(parseQuantity("200Mi"), 200 * 2 ** 20);
    assert.equal(parseQuantity("1.5Gi"), 1.5 * 2 ** 30);
    assert.equal(parseQuantity("1e3"), 1000);
    assert.equal(parseQuantity("12Q"), undefined);
    assert.equal(parseQuantity("lots"), undefined);
  });

  test("metrics.k8s.io PodMetrics become readings", () => {
    const r = readingsFromMetricsApi(
      [
        {
          metadata: { name: "canal-a", namespace: "kube-system" },
          timestamp: "2026-01-01T00:00:00Z",
          containers: [
            { name: "calico-node", usage: { cpu: "1500m", memory: "300Mi" } },
            { name: "kube-flannel", usage: { cpu: "1m", memory: "20Mi" } },
          ],
        },
        { metadata: { name: "no-stamp", namespace: "kube-system" }, containers: [] },
      ],
      "calico-node",
    );
    assert.deepEqual(
      [...r.entries()],
      [
        [
          "kube-system/canal-a",
          { t: Date.parse("2026-01-01T00:00:00Z"), cpuCores: 1.5, memoryBytes: 300 * 2 ** 20 },
        ],
      ],
    );
  });
});

describe("series", () => {
  const target = { node: "n1", namespace: "kube-system", pod: "canal-a" };
  const from = { source: "node" as const, ref: "test" };

  test("cumulative CPU becomes a rate between consecutive readings; memory stays a gauge", () => {
    const s = seriesFromReadings(
      target,
      "calico-node",
      [
        { t: 10_000, cpuSecondsTotal: 105, memoryBytes: 2e8 },
        { t: 0, cpuSecondsTotal: 100, memoryBytes: 1e8 },
        { t: 20_000, cpuSecondsTotal: 125, memoryBytes: 3e8 },
      ],
      from,
    );
    const cpu = s.find((x) => x.metric === "cpu-cores");
    const mem = s.find((x) => x.metric === "memory-working-set-bytes");
    assert.deepEqual(
      cpu?.samples.map((p) => p.value),
      [0.5, 2],
    );
    assert.equal(cpu?.samples[0]?.t, new Date(10_000).toISOString());
    assert.deepEqual(
      mem?.samples.map((p) => p.value),
      [1e8, 2e8, 3e8],
    );
    assert.equal(cpu?.pod, "canal-a");
    assert.equal(cpu?.node, "n1");
  });

  test("a counter that went backwards (restart) gives no rate; one reading gives no CPU series", () => {
    const restarted = seriesFromReadings(
      target,
      "calico-node",
      [
        { t: 0, cpuSecondsTotal: 100 },
        { t: 1000, cpuSecondsTotal: 3 },
      ],
      from,
    );
    assert.deepEqual(restarted, []);
    const single = seriesFromReadings(
      target,
      "calico-node",
      [{ t: 0, cpuSecondsTotal: 1, memoryBytes: 5 }],
      from,
    );
    assert.deepEqual(
      single.map((x) => x.metric),
      ["memory-working-set-bytes"],
    );
  });
});
