import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { felixLog, toCri } from "../../scripts/fixtures/felix-log.js";
import { flannelLogLines } from "../../scripts/fixtures/flannel-log.js";
import { loadAdvisories, SHIPPED_ADVISORIES_DIR } from "../advisories/load.js";
import { NodeAgent } from "./agent.js";
import { ConditionReporter, conditionTypeFor } from "./conditions.js";
import { EventRecorder } from "./events.js";
import type { AgentEvent, EventSeries, NodeApi, NodeCondition, NodeView } from "./kube.js";
import { escapeLabelValue, Registry } from "./metrics.js";

/** An in-memory Node and event store that counts every API call. */
class FakeApi implements NodeApi {
  conditions: NodeCondition[] = [];
  events = new Map<string, AgentEvent & { series?: EventSeries }>();
  gets = 0;
  statusPatches = 0;
  eventCreates = 0;
  eventPatches = 0;
  failNext = false;

  getNode(): Promise<NodeView> {
    this.gets++;
    return Promise.resolve({ uid: "uid-1", conditions: this.conditions.map((c) => ({ ...c })) });
  }
  patchNodeCondition(_name: string, condition: NodeCondition): Promise<void> {
    if (this.failNext) {
      this.failNext = false;
      return Promise.reject(new Error("HTTP 500"));
    }
    this.statusPatches++;
    this.conditions = [...this.conditions.filter((c) => c.type !== condition.type), condition];
    return Promise.resolve();
  }
  createEvent(event: AgentEvent): Promise<void> {
    this.eventCreates++;
    this.events.set(event.name, { ...event });
    return Promise.resolve();
  }
  patchEventSeries(_ns: string, name: string, series: EventSeries): Promise<boolean> {
    this.eventPatches++;
    const e = this.events.get(name);
    if (!e) return Promise.resolve(false);
    e.series = series;
    return Promise.resolve(true);
  }
  condition(type: string): NodeCondition | undefined {
    return this.conditions.find((c) => c.type === type);
  }
}

const ADVISORY = {
  id: "CNID-2024-0001",
  title: "Calico XDP/BTF retry loop",
  conditionType: "CalicoXDPRetryLoop",
};
const MIN = 60_000;

describe("ConditionReporter", () => {
  test("patches only when the status changes, and not before the jittered first write", async () => {
    const api = new FakeApi();
    let now = 1_000_000;
    const r = new ConditionReporter({
      api,
      node: "n1",
      advisories: [ADVISORY],
      clearAfterMs: 30 * MIN,
      firstWriteJitterMs: 60_000,
      now: () => now,
      random: () => 0.5,
    });
    await r.start({});
    assert.deepEqual(await r.reconcile(), [], "first write waits for its jitter (30 s here)");
    assert.equal(api.statusPatches, 0);
    now += 30_000;
    const first = await r.reconcile();
    assert.equal(first[0]?.status, "False");
    assert.equal(api.condition("CalicoXDPRetryLoop")?.reason, "NoSymptom");
    for (let i = 0; i < 50; i++) {
      now += 1000;
      await r.reconcile();
    }
    assert.equal(api.statusPatches, 1, "an unchanged condition is never written again");
    r.noteSymptom("CNID-2024-0001", now - 5000);
    for (let i = 0; i < 50; i++) {
      now += 1000;
      r.noteSymptom("CNID-2024-0001", now);
      await r.reconcile();
    }
    assert.equal(api.statusPatches, 2, "one write for False -> True, none while it stays True");
    assert.equal(api.condition("CalicoXDPRetryLoop")?.status, "True");
    assert.equal(api.condition("CalicoXDPRetryLoop")?.reason, "SymptomSeen");
    now += 30 * MIN - 1;
    await r.reconcile();
    assert.equal(api.condition("CalicoXDPRetryLoop")?.status, "True", "not cleared before clearAfter");
    now += 1;
    const cleared = await r.reconcile();
    assert.equal(cleared[0]?.previous, "True");
    assert.equal(api.condition("CalicoXDPRetryLoop")?.status, "False");
    assert.equal(api.condition("CalicoXDPRetryLoop")?.reason, "SymptomCleared");
    assert.equal(api.statusPatches, 3);
  });

  test("a restarted agent that finds its condition already right writes nothing", async () => {
    const api = new FakeApi();
    api.conditions = [{ type: "CalicoXDPRetryLoop", status: "True", reason: "SymptomSeen" }];
    const now = 5_000_000;
    const r = new ConditionReporter({
      api,
      node: "n1",
      advisories: [ADVISORY],
      clearAfterMs: 30 * MIN,
      firstWriteJitterMs: 0,
      now: () => now,
      random: () => 0,
    });
    // The checkpoint says the symptom was seen a minute ago: still True, nothing to write.
    await r.start({ "CNID-2024-0001": now - MIN });
    await r.reconcile();
    assert.equal(api.statusPatches, 0);
    assert.equal(api.gets, 1);
  });

  test("True on the Node but no record of when (fresh state): cleared only after clearAfter from start", async () => {
    const api = new FakeApi();
    api.conditions = [{ type: "CalicoXDPRetryLoop", status: "True" }];
    let now = 5_000_000;
    const r = new ConditionReporter({
      api,
      node: "n1",
      advisories: [ADVISORY],
      clearAfterMs: 10 * MIN,
      firstWriteJitterMs: 0,
      now: () => now,
      random: () => 0,
    });
    await r.start({});
    await r.reconcile();
    assert.equal(api.statusPatches, 0);
    now += 10 * MIN;
    await r.reconcile();
    assert.equal(api.condition("CalicoXDPRetryLoop")?.status, "False");
  });

  test("a failed patch is retried on the next pass", async () => {
    const api = new FakeApi();
    const r = new ConditionReporter({
      api,
      node: "n1",
      advisories: [ADVISORY],
      clearAfterMs: MIN,
      firstWriteJitterMs: 0,
      now: () => 0,
      random: () => 0,
    });
    await r.start({});
    api.failNext = true;
    await assert.rejects(r.reconcile(), /HTTP 500/);
    await r.reconcile();
    assert.equal(api.condition("CalicoXDPRetryLoop")?.status, "False");
  });

  test("the condition type comes from the advisory, else from its id", async () => {
    const shipped = (await loadAdvisories()).find((a) => a.id === "CNID-2024-0001");
    assert.equal(shipped && conditionTypeFor(shipped), "CalicoXDPRetryLoop");
    assert.equal(
      conditionTypeFor({ id: "CNID-2099-0001", presentation: { conditionType: "RouteSyncStorm" } }),
      "RouteSyncStorm",
    );
    assert.equal(conditionTypeFor({ id: "CNID-2099-0001" }), "CnidoctorCNID20990001");
  });
});

describe("EventRecorder", () => {
  test("at most one write per advisory per interval; the series carries the count", async () => {
    const api = new FakeApi();
    let now = 0;
    const rec = new EventRecorder({ api, node: "n1", intervalMs: 10 * MIN, now: () => now });
    rec.nodeUid = "uid-1";
    let writes = 0;
    for (let s = 0; s < 25 * 60; s++) {
      // one symptom match every second for 25 minutes
      rec.observe("CNID-2024-0001", "CalicoXDPRetryLoop", "seen");
      writes += await rec.flush();
      now += 1000;
    }
    assert.equal(api.eventCreates, 1);
    assert.equal(api.eventPatches, 2, "at 10 and 20 minutes");
    assert.equal(writes, 3);
    const [event] = [...api.events.values()];
    assert.ok(event);
    assert.equal(event.regarding.kind, "Node");
    assert.equal(event.regarding.uid, "uid-1");
    assert.equal(event.type, "Warning");
    assert.equal(event.series?.count, 1201, "1 at creation + the matches counted up to 20 min");
  });

  test("an expired Event (TTL) is created anew instead of patched", async () => {
    const api = new FakeApi();
    let now = 0;
    const rec = new EventRecorder({ api, node: "n1", intervalMs: MIN, now: () => now });
    rec.observe("A", "R", "x");
    await rec.flush();
    api.events.clear();
    now += MIN;
    rec.observe("A", "R", "x");
    await rec.flush();
    assert.equal(api.eventCreates, 2);
    assert.equal(api.eventPatches, 1);
  });
});

describe("metrics exposition", () => {
  test("escapes label values and renders counters and gauges", () => {
    const r = new Registry();
    const c = r.counter("x_total", "Things.\nMore.", ["a"]);
    c.inc({ a: 'q"b\\n\nz' }, 2);
    r.gauge("y", "A gauge.").set({}, 1.5);
    assert.equal(
      r.render(),
      [
        "# HELP x_total Things.\\nMore.",
        "# TYPE x_total counter",
        'x_total{a="q\\"b\\\\n\\nz"} 2',
        "# HELP y A gauge.",
        "# TYPE y gauge",
        "y 1.5",
        "",
      ].join("\n"),
    );
    assert.equal(escapeLabelValue("plain"), "plain");
    assert.throws(() => c.inc({ a: "x" }, -1), /only go up/);
    assert.throws(() => r.counter("x_total", "again"), /twice/);
  });
});

/** A node agent on one log root with the timings these tests use; `now` is the test's clock. */
function testAgent(o: {
  root: string;
  state: string;
  advisories: ConstructorParameters<typeof NodeAgent>[0]["advisories"];
  api: FakeApi;
  now: () => number;
}): NodeAgent {
  return new NodeAgent({
    node: "n1",
    roots: [o.root],
    stateDir: o.state,
    advisories: o.advisories,
    api: o.api,
    clearAfterMs: 10 * MIN,
    eventIntervalMs: 5 * MIN,
    pollMs: 1000,
    firstWriteJitterMs: 0,
    log: () => undefined,
    now: o.now,
    random: () => 0,
  });
}

function stormText(start: Date, seconds: number, kind: "storm" | "quiet" = "storm"): string {
  const lines = [...felixLog({ calicoVersion: "v3.28.0", kind, start, durationSeconds: seconds })];
  return `${lines.map((l) => toCri(l)).join("\n")}\n`;
}

describe("NodeAgent", () => {
  test("symptom in the logs: counter, condition True and one Event; restart does not count again", async () => {
    // The XDP advisory alone: each other advisory writes its own condition (and patch) too.
    const advisories = (await loadAdvisories(SHIPPED_ADVISORIES_DIR)).filter(
      (a) => a.id === "CNID-2024-0001",
    );
    const root = mkdtempSync(join(tmpdir(), "cnid-agent-"));
    const state = mkdtempSync(join(tmpdir(), "cnid-agent-state-"));
    const dir = join(root, "kube-system_canal-abcde_0000", "calico-node");
    mkdirSync(dir, { recursive: true });
    let now = Date.parse("2024-08-14T09:05:00Z");
    const api = new FakeApi();
    const make = (): NodeAgent => testAgent({ root, state, advisories, api, now: () => now });
    writeFileSync(join(dir, "0.log"), stormText(new Date("2024-08-14T09:00:00Z"), 120));
    const a = make();
    await a.start();
    await a.tick();
    await a.tick();
    const labels = { advisory: "CNID-2024-0001", signature: "xdp-btf-load-failure", node: "n1" };
    const matched = a.metrics.matches.get(labels) ?? 0;
    assert.equal(matched, 48, "4 retry cycles × 12 symptom records");
    assert.equal(api.condition("CalicoXDPRetryLoop")?.status, "True");
    assert.equal(api.eventCreates, 2, "the transition Event and the first symptom Event");
    assert.equal(a.metrics.symptomActive.get({ advisory: "CNID-2024-0001", node: "n1" }), 1);
    await a.stop();

    appendFileSync(join(dir, "0.log"), stormText(new Date("2024-08-14T09:02:00Z"), 60));
    const b = make();
    await b.start();
    await b.tick();
    await b.tick();
    assert.equal(b.metrics.matches.get(labels), 24, "only the 2 cycles written while it was down");
    assert.equal(api.statusPatches, 1, "the restarted agent found the condition already True");

    now += 11 * MIN; // no new symptom for longer than clearAfter
    appendFileSync(join(dir, "0.log"), stormText(new Date("2024-08-14T09:15:00Z"), 60, "quiet"));
    await b.tick();
    assert.equal(api.condition("CalicoXDPRetryLoop")?.status, "False");
    assert.equal(api.statusPatches, 2);
    assert.equal(b.metrics.symptomActive.get({ advisory: "CNID-2024-0001", node: "n1" }), 0);
    const cleared = [...api.events.values()].filter((e) => e.reason === "CalicoXDPRetryLoopCleared");
    assert.equal(cleared.length, 1);
    await b.stop();
    rmSync(root, { recursive: true, force: true });
    rmSync(state, { recursive: true, force: true });
  });
});

describe("NodeAgent follows every container a loaded advisory names", () => {
  test("kube-flannel's IPv6 rule loop: its counter, its Node condition type and an Event naming the container", async () => {
    const advisories = await loadAdvisories(SHIPPED_ADVISORIES_DIR);
    const root = mkdtempSync(join(tmpdir(), "cnid-agent-flannel-"));
    const state = mkdtempSync(join(tmpdir(), "cnid-agent-flannel-state-"));
    const pod = join(root, "kube-system_rke2-canal-abcde_0000");
    const start = new Date("2024-03-18T09:30:00Z");
    const cri = (kind: "ipv6-loop" | "quiet"): string =>
      `${flannelLogLines({
        kind,
        version: "v0.24.3-build20240307",
        start,
        durationSeconds: 60,
        iface: "eth0",
      })
        .map((text, i) => `${new Date(start.getTime() + 2000 + i * 2500).toISOString()} stderr F ${text}`)
        .join("\n")}\n`;
    mkdirSync(join(pod, "kube-flannel"), { recursive: true });
    mkdirSync(join(pod, "calico-node"), { recursive: true });
    mkdirSync(join(pod, "install-cni"), { recursive: true });
    writeFileSync(join(pod, "kube-flannel", "0.log"), cri("ipv6-loop"));
    writeFileSync(join(pod, "calico-node", "0.log"), stormText(start, 60, "quiet"));
    // A container no advisory names is never read.
    writeFileSync(join(pod, "install-cni", "0.log"), cri("ipv6-loop"));
    const api = new FakeApi();
    const agent = testAgent({ root, state, advisories, api, now: () => now });
    let now = Date.parse("2024-03-18T09:31:30Z");
    await agent.start();
    await agent.tick();
    now += 5000; // idle past the flush delay: the last record is complete
    await agent.tick();
    const labels = { advisory: "CNID-2024-0002", signature: "ipv6-restore-loop", node: "n1" };
    assert.equal(
      agent.metrics.matches.get(labels),
      12,
      "one bootstrap and 11 resync failures, from one file",
    );
    assert.equal(agent.metrics.filesTracked.get({ node: "n1" }), 2, "calico-node and kube-flannel");
    assert.equal(api.condition("FlannelIPv6RestoreLoop")?.status, "True");
    assert.match(api.condition("FlannelIPv6RestoreLoop")?.message ?? "", /kube-flannel logs/);
    assert.equal(api.condition("CalicoXDPRetryLoop")?.status, "False");
    const events = [...api.events.values()].map((e) => e.note);
    assert.ok(
      events.some((n) => /kube-flannel log record matched ipv6-restore-loop/.test(n)),
      events.join("\n"),
    );
    await agent.stop();
    rmSync(root, { recursive: true, force: true });
    rmSync(state, { recursive: true, force: true });
  });
});
