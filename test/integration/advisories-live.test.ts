// CNID-2024-0002 (flannel v0.24.3 IPv6 restore loop) and CNID-2021-0001 (VXLAN TX checksum
// offload) against the real control plane, on their own harness scenarios: `scan -o json` finds
// each with its evidence and leaves the lookalikes alone, `plan --advisory` gives the steps with
// their diffs, the node agent sets the flannel advisory's Node condition on the hot node only, and
// each advisory's own `alerts --advisory` rules pass promtool. One 3-node cluster at a time: the
// three Calico VXLAN scenarios differ only in their FelixConfiguration and IPPool, so one cluster
// is moved between them with those objects as the scenarios define them (checked below).
// Needs scripts/cluster/ensure-tools.sh (apiserver, etcd, kwok, prometheus's promtool).
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse as parseYaml } from "yaml";
import type { ClusterInfo } from "../../scripts/cluster/cluster.js";
import { calicoObjects } from "../../scripts/cluster/calico-objects.js";
import { calicoLogFile, flannelLogFile } from "../../scripts/cluster/pod-logs.js";
import { findScenario, type Scenario } from "../../scripts/cluster/scenarios.js";
import { writeTokenKubeconfig } from "../../scripts/cluster/token-kubeconfig.js";
import { loadAdvisories } from "../../src/advisories/load.js";
import { agentArgv } from "../../src/cli/agent-launch.js";
import type { Advisory } from "../../src/model/advisory.js";
import type { Evidence, Report, SubjectVerdict } from "../../src/model/finding.js";
import type { FileWriteStep, Plan, Step } from "../../src/model/plan.js";
import type { AgentNodeFacts } from "../../src/model/snapshot.js";
import { clusterForSuite } from "./support/cluster.js";
import { cnidoctor, kubectl, type CliRun } from "./support/live.js";

const NODES = 3;
const FLANNEL = "CNID-2024-0002";
const VXLAN = "CNID-2021-0001";
const XDP = "CNID-2024-0001";
const REPO = join(import.meta.dirname, "..", "..", "..");
const PROMTOOL = "/usr/bin/promtool";
const work = mkdtempSync(join(tmpdir(), "cnid-it-advisories-"));
after(() => rmSync(work, { recursive: true, force: true }));

const advisories = await loadAdvisories();
function advisory(id: string): Advisory {
  const a = advisories.find((x) => x.id === id);
  assert.ok(a, `${id} is shipped`);
  return a;
}

function scenario(name: string): Scenario {
  const s = findScenario(name);
  assert.ok(s, `scenario ${name}`);
  return s;
}

function parsed(r: CliRun, what: string): unknown {
  try {
    return JSON.parse(r.stdout) as unknown;
  } catch {
    throw new Error(
      `${what}: not JSON (exit ${r.code}): ${r.stdout.slice(0, 300)} ${r.stderr.slice(0, 600)}`,
    );
  }
}

async function scan(c: ClusterInfo): Promise<{ code: number; report: Report }> {
  const r = await cnidoctor(["scan", "--kubeconfig", c.kubeconfig, "-o", "json"]);
  return { code: r.code, report: parsed(r, "scan") as Report };
}

async function plan(c: ClusterInfo, id: string): Promise<Plan> {
  const r = await cnidoctor(["plan", "--advisory", id, "--kubeconfig", c.kubeconfig, "-o", "json"]);
  assert.equal(r.code, 0, r.stderr);
  const p = parsed(r, "plan") as Plan;
  assert.equal(p.advisoryId, id);
  return p;
}

/** node → verdict of one advisory; every node of the cluster has one. */
function verdictsOf(report: Report, id: string): Map<string, SubjectVerdict> {
  const list = report.verdicts.find((v) => v.advisoryId === id)?.verdicts ?? [];
  const out = new Map(list.map((v) => [v.subject, v]));
  assert.equal(out.size, NODES, `${id}: one verdict per node, got ${[...out.keys()].join(", ")}`);
  return out;
}

function expectStatus(report: Report, id: string, status: string): Map<string, SubjectVerdict> {
  const verdicts = verdictsOf(report, id);
  for (const [node, v] of verdicts)
    assert.equal(v.status, status, `${id} on ${node}: ${v.reasons.join("; ")}`);
  return verdicts;
}

function evidence(
  v: SubjectVerdict,
  kind: Evidence["kind"],
  key: string,
  value: string,
): Evidence | undefined {
  return v.evidence.find((e) => e.kind === kind && e.data?.[key] === value);
}

/** The typed data of a condition's evidence on a verdict (what it read, whether it holds). */
function conditionData(v: SubjectVerdict, condition: string): Record<string, unknown> {
  const e = evidence(v, "condition", "condition", condition);
  assert.ok(e?.data, `${v.subject}: no evidence for condition ${condition}`);
  return e.data;
}

function step<K extends Step["kind"]>(p: Plan, id: string, kind: K): Extract<Step, { kind: K }> {
  const s = p.steps.find((x) => x.id === id);
  assert.ok(s, `step ${id} in ${p.steps.map((x) => x.id).join(", ")}`);
  assert.equal(s.kind, kind);
  return s as Extract<Step, { kind: K }>;
}

/** The lines a unified diff adds, without the "+" and the file header. */
function added(diff: string): string[] {
  return diff
    .split("\n")
    .filter((l) => l.startsWith("+") && !l.startsWith("+++"))
    .map((l) => l.slice(1));
}

/** A file-write step writes what its diff shows, and the file is the HelmChartConfig named. */
function helmChartConfig(s: FileWriteStep, chart: string): Record<string, unknown> {
  assert.deepEqual(added(s.diff), s.content.replace(/\n$/, "").split("\n"), `${s.id}: diff = content`);
  assert.equal(s.destination, `/var/lib/rancher/rke2/server/manifests/${chart}-config.yaml`);
  const doc = parseYaml(s.content) as {
    apiVersion: string;
    kind: string;
    metadata: { name: string; namespace: string };
    spec: { valuesContent: string };
  };
  assert.equal(doc.apiVersion, "helm.cattle.io/v1");
  assert.equal(doc.kind, "HelmChartConfig");
  assert.deepEqual(doc.metadata, { name: chart, namespace: "kube-system" });
  return parseYaml(doc.spec.valuesContent) as Record<string, unknown>;
}

/** Every step implements a remediation the advisory declares; the ones that change something show it. */
function checkSteps(p: Plan, a: Advisory): void {
  const declared = new Set(a.remediations.map((r) => r.id));
  for (const s of p.steps) {
    assert.ok(declared.has(s.remediationId), `${s.id}: ${s.remediationId} is ${a.id}'s`);
    if (s.kind !== "manual") assert.notEqual(s.diff, "", `${s.id} has a diff`);
  }
}

function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  const loop = async (last: unknown): Promise<T> => {
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}${last instanceof Error ? `: ${last.message}` : ""}`);
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (e) {
      await new Promise((r) => setTimeout(r, 300));
      return loop(e);
    }
    await new Promise((r) => setTimeout(r, 300));
    return loop(last);
  };
  return loop(undefined);
}

describe("CNID-2024-0002 on rke2-canal-flannel-loop", { timeout: 240_000 }, () => {
  const sc = scenario("rke2-canal-flannel-loop");
  const image = sc.daemonSet.containers.find((x) => x.name === "kube-flannel")?.image;
  let cluster: ClusterInfo | undefined;
  const info = (): ClusterInfo => {
    assert.ok(cluster, "cluster did not start");
    return cluster;
  };
  clusterForSuite({ scenario: sc.name, nodes: NODES, name: `it-adv-flannel-${process.pid}` }, (i) => {
    cluster = i;
  });

  /** The IPv6 loop's failure records the harness wrote into a node's kube-flannel log. */
  function loopRecords(node: string): number {
    return readFileSync(flannelLogFile(info().stateDir, node), "utf8")
      .split("\n")
      .filter((l) => /iptables\.go:(?:427|440)\] Failed to .* exit status 4$/.test(l)).length;
  }

  test("scan: affected on the hot node with the loop signature, the image's flannel version and the line fingerprint; at risk elsewhere; exit 3", async () => {
    const c = info();
    assert.equal(c.hotNodes.length, 1);
    const [hot] = c.hotNodes as [string];
    const { code, report } = await scan(c);
    assert.equal(code, 3);
    assert.equal(report.target.distribution, "rke2");
    for (const [node, v] of verdictsOf(report, FLANNEL)) {
      // The version evidence is read from the kube-flannel image, on every node.
      const version = evidence(v, "version", "flannelVersion", "v0.24.3");
      assert.ok(version, `${node}: flannel version from the image`);
      assert.ok(image !== undefined && version.source?.includes(image), version.source);
      const symptom = evidence(v, "symptom", "signature", "ipv6-restore-loop");
      if (node === hot) {
        assert.equal(v.status, "affected", v.reasons.join("; "));
        assert.ok(symptom?.data, `${node}: the ipv6-restore-loop evidence`);
        assert.equal(symptom.data.role, "symptom");
        const records = loopRecords(node);
        assert.ok(records > 100, `the harness wrote ${records} loop records`);
        assert.equal(symptom.data.count, records, "every loop record of the log is counted");
        const fingerprint = v.evidence.find((e) => e.kind === "fingerprint");
        assert.deepEqual(fingerprint?.data?.versions, ["v0.24.3"], "the line numbers are v0.24.3's");
      } else {
        assert.equal(v.status, "at-risk", `${node}: affected flannel, no loop: ${v.reasons.join("; ")}`);
        assert.equal(symptom, undefined, `${node} logs no loop`);
        assert.equal(loopRecords(node), 0);
      }
    }
    expectStatus(report, XDP, "not-affected");
    // Not on vSphere and no checksum errors: the VXLAN advisory does not flag this Canal cluster.
    expectStatus(report, VXLAN, "not-affected");
  });

  test("plan --advisory CNID-2024-0002: the RKE2 upgrade and the rke2-canal HelmChartConfig, with diffs", async () => {
    const a = advisory(FLANNEL);
    const p = await plan(info(), FLANNEL);
    checkSteps(p, a);
    // The first fixed release of the scenario's own minor, as the advisory lists it.
    const minor = /^v(\d+\.\d+)\./.exec(sc.distroVersion)?.[1] ?? "";
    const fixed = a.affected.find((x) => x.ecosystem === "rke2")?.fixedIn?.[minor];
    assert.ok(fixed !== undefined);
    const upgrade = step(p, "rke2-upgrade-flannel", "manual");
    assert.equal(upgrade.remediationId, "upgrade-rke2-canal-flannel");
    assert.deepEqual(added(upgrade.diff), [` rke2 ${fixed}`]);
    assert.match(upgrade.diff, new RegExp(`^- rke2 ${sc.distroVersion.replace(/\+/g, "\\+")}$`, "m"));
    const pin = step(p, "rke2-canal-flannel-image", "file-write");
    assert.equal(pin.remediationId, "rke2-helmchartconfig-flannel-image");
    assert.equal(pin.default, true);
    assert.deepEqual(helmChartConfig(pin, "rke2-canal"), {
      flannel: { image: { tag: "v0.24.4-build20240321" } },
    });
    // RKE2 manages this Canal: no patch of its DaemonSet (the chart would revert it).
    assert.equal(
      p.steps.find((s) => s.remediationId === "canal-flannel-image-patch"),
      undefined,
    );
  });

  test("the node agent sets the advisory's Node condition True on the hot node only, with an event and the counter the alert reads", async () => {
    const c = info();
    const type = advisory(FLANNEL).presentation?.conditionType;
    assert.equal(type, "FlannelIPv6RestoreLoop");
    const xdpType = advisory(XDP).presentation?.conditionType;
    assert.ok(xdpType !== undefined);
    await kubectl(c.kubeconfig, ["apply", "-f", join(REPO, "deploy", "agent", "namespace.yaml")]);
    await kubectl(c.kubeconfig, ["apply", "-f", join(REPO, "deploy", "agent", "rbac.yaml")]);
    const kubeconfig = await agentKubeconfig(c);
    const pods = JSON.parse(
      await kubectl(c.kubeconfig, ["-n", "kube-system", "get", "pods", "-l", "k8s-app=canal", "-o", "json"]),
    ) as { items: { metadata: { name: string; uid: string }; spec: { nodeName?: string } }[] };
    const nodes = (await kubectl(c.kubeconfig, ["get", "nodes", "-o", "jsonpath={.items[*].metadata.name}"]))
      .trim()
      .split(" ");
    assert.equal(nodes.length, NODES);
    const agents: { node: string; proc: ChildProcess; stderr: string[] }[] = [];
    try {
      for (const node of nodes) {
        const pod = pods.items.find((p) => p.spec.nodeName === node);
        assert.ok(pod, `a canal pod on ${node}`);
        // The kubelet's pods layout, holding the very log files the harness serves for this node.
        const root = join(work, node, "logs");
        const podDir = join(root, `kube-system_${pod.metadata.name}_${pod.metadata.uid}`);
        for (const [container, file] of [
          ["kube-flannel", flannelLogFile(c.stateDir, node)],
          ["calico-node", calicoLogFile(c.stateDir, node)],
        ] as const) {
          mkdirSync(join(podDir, container), { recursive: true });
          copyFileSync(file, join(podDir, container, "0.log"));
        }
        const state = join(work, node, "state");
        mkdirSync(state, { recursive: true });
        const proc = spawn(
          process.execPath,
          agentArgv([
            `--node-name=${node}`,
            `--log-root=${root}`,
            `--state-dir=${state}`,
            "--listen=127.0.0.1:0",
            // The harness's log ends when the cluster came up: keep that symptom current.
            "--clear-after=60m",
            "--event-interval=1s",
            "--poll-interval=250ms",
            "--first-write-jitter=0s",
          ]),
          { env: { ...process.env, KUBECONFIG: kubeconfig }, stdio: ["ignore", "ignore", "pipe"] },
        );
        const stderr: string[] = [];
        proc.stderr?.on("data", (d: Buffer) => stderr.push(d.toString()));
        agents.push({ node, proc, stderr });
      }
      const hot = c.hotNodes[0];
      for (const { node, stderr } of agents) {
        const expected = node === hot ? "True" : "False";
        const cond: NodeCondition = await waitFor<NodeCondition>(
          `${type} ${expected} on ${node}`,
          async () => {
            const found: NodeCondition | undefined = (await nodeConditions(c, node)).find(
              (x) => x.type === type,
            );
            return found?.status === expected ? found : undefined;
          },
        ).catch((e: unknown) => {
          throw new Error(`${String(e)}\nagent on ${node}:\n${stderr.join("")}`);
        });
        assert.equal(cond.reason, node === hot ? "SymptomSeen" : "NoSymptom");
        // The other log advisory it watches (calico-node's XDP loop) stays False on every node.
        const xdp: NodeCondition | undefined = (await nodeConditions(c, node)).find(
          (x) => x.type === xdpType,
        );
        assert.equal(xdp?.status, "False", `${xdpType} on ${node}`);
        // What the alert rules select: the counter, equal to the loop records on the hot node, 0 elsewhere.
        const port = /metrics on http:\/\/127\.0\.0\.1:(\d+)\/metrics/.exec(stderr.join(""))?.[1];
        assert.ok(port, stderr.join(""));
        const series = new RegExp(
          `^cnidoctor_signature_matches_total\\{advisory="${FLANNEL}",signature="ipv6-restore-loop",node="${node}"\\} (\\d+)$`,
          "m",
        );
        const counter = async (): Promise<number> =>
          Number(series.exec(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text())?.[1]);
        // The log's last record is counted once the file has been idle for the tailer's flush delay.
        const want = loopRecords(node);
        const seen = await waitFor(
          `${node}'s counter at ${want}`,
          async () => {
            const n = await counter();
            return n === want ? n : undefined;
          },
          15_000,
        ).catch(async () => counter());
        assert.equal(seen, want, `${node}'s counter`);
      }
      const warnings = await waitFor(`a ${type} event about ${hot}`, async () => {
        const list = (await agentEvents(c)).filter((e) => e.regarding?.name === hot && e.reason === type);
        return list.length > 0 ? list : undefined;
      });
      assert.ok(warnings.every((e) => e.type === "Warning"));
      const others = (await agentEvents(c)).filter((e) => e.regarding?.name !== hot);
      assert.deepEqual(others, [], "no agent events about the calm nodes");
      for (const a of agents) {
        const exited = new Promise<number | null>((r) => a.proc.once("exit", (code) => r(code)));
        a.proc.kill("SIGTERM");
        assert.equal(await exited, 0, a.stderr.join(""));
      }
    } finally {
      for (const a of agents)
        if (a.proc.exitCode === null && a.proc.signalCode === null) a.proc.kill("SIGKILL");
    }
  });
});

interface NodeCondition {
  type: string;
  status: string;
  reason?: string;
}

async function nodeConditions(c: ClusterInfo, node: string): Promise<NodeCondition[]> {
  const n = JSON.parse(await kubectl(c.kubeconfig, ["get", "node", node, "-o", "json"])) as {
    status: { conditions?: NodeCondition[] };
  };
  return n.status.conditions ?? [];
}

interface AgentEvent {
  reason?: string;
  type?: string;
  regarding?: { name?: string };
  reportingController?: string;
}

async function agentEvents(c: ClusterInfo): Promise<AgentEvent[]> {
  const out = await kubectl(c.kubeconfig, ["get", "events.v1.events.k8s.io", "-n", "default", "-o", "json"]);
  return (JSON.parse(out) as { items: AgentEvent[] }).items.filter(
    (e) => e.reportingController === "cnidoctor.io/agent",
  );
}

/** The agent's ServiceAccount (shipped RBAC, a TokenRequest token), not the admin. */
async function agentKubeconfig(c: ClusterInfo): Promise<string> {
  const token = (
    await kubectl(c.kubeconfig, ["-n", "cnidoctor", "create", "token", "cnidoctor-agent", "--duration=1h"])
  ).trim();
  return writeTokenKubeconfig(c.kubeconfig, token, join(work, "agent-kubeconfig.json"));
}

interface FactsAgent {
  node: string;
  /** The fake host's /proc/1/net/snmp and the agent's --state-dir. */
  snmp: string;
  stateDir: string;
  proc: ChildProcess;
  stderr: string[];
}

/** /proc/1/net/snmp with a Udp InCsumErrors value (the agent reads nothing else of it). */
function snmp(inCsumErrors: number): string {
  return [
    "Udp: InDatagrams NoPorts InErrors OutDatagrams RcvbufErrors SndbufErrors InCsumErrors IgnoredMulti MemErrors",
    `Udp: 5000 3 ${String(inCsumErrors)} 4800 0 0 ${String(inCsumErrors)} 0 0`,
    "",
  ].join("\n");
}

/**
 * The node agent (conditions and Events, not metrics-only) under the agent's ServiceAccount, with
 * --host-root on a directory laid out like a host: a default route via ens192 (vmxnet3) and the
 * UDP counters. Its log root is empty: only node facts can show a symptom.
 */
function startFactsAgent(node: string, inCsumErrors: number, kubeconfig: string): FactsAgent {
  const dir = join(work, "vxlan-agent", node);
  const host = join(dir, "host");
  mkdirSync(join(host, "proc", "1", "net"), { recursive: true });
  writeFileSync(
    join(host, "proc", "1", "net", "route"),
    "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\nens192\t00000000\t01001E0A\t0003\t0\t0\t100\t00000000\t0\t0\t0\n",
  );
  const snmpFile = join(host, "proc", "1", "net", "snmp");
  writeFileSync(snmpFile, snmp(inCsumErrors));
  const device = join(host, "sys", "class", "net", "ens192", "device");
  mkdirSync(device, { recursive: true });
  symlinkSync("../../../../bus/pci/drivers/vmxnet3", join(device, "driver"));
  for (const d of ["logs", "state"]) mkdirSync(join(dir, d), { recursive: true });
  const proc = spawn(
    process.execPath,
    agentArgv([
      `--node-name=${node}`,
      `--log-root=${join(dir, "logs")}`,
      `--state-dir=${join(dir, "state")}`,
      "--listen=127.0.0.1:0",
      `--host-root=${host}`,
      "--facts-interval=1s",
      "--poll-interval=250ms",
      "--first-write-jitter=0s",
    ]),
    { env: { ...process.env, KUBECONFIG: kubeconfig }, stdio: ["ignore", "ignore", "pipe"] },
  );
  const stderr: string[] = [];
  proc.stderr?.on("data", (d: Buffer) => stderr.push(d.toString()));
  return { node, snmp: snmpFile, stateDir: join(dir, "state"), proc, stderr };
}

/** One series' value on the agent's /metrics (undefined until it listens or exports the series). */
async function agentMetric(a: FactsAgent, series: string): Promise<number | undefined> {
  const port = /metrics on http:\/\/127\.0\.0\.1:(\d+)\/metrics/.exec(a.stderr.join(""))?.[1];
  if (port === undefined) return undefined;
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

/** The agent's node-facts.json once it holds a reading later than `after` (ISO time). */
function nextFactsRead(a: FactsAgent, after: string): Promise<AgentNodeFacts> {
  const file = join(a.stateDir, "node-facts.json");
  return waitFor(
    `${a.node}'s facts read after ${after}`,
    () => {
      const [facts] = (JSON.parse(readFileSync(file, "utf8")) as { items: AgentNodeFacts[] }).items;
      return Promise.resolve(facts !== undefined && facts.readAt > after ? facts : undefined);
    },
    10_000,
  ).catch(withStderr(a));
}

/** A rejection handler that adds the agent's own log to a timeout. */
function withStderr(a: FactsAgent): (e: unknown) => never {
  return (e: unknown) => {
    throw new Error(`${String(e)}\nagent on ${a.node}:\n${a.stderr.join("")}`);
  };
}

/** The corroboration facts the advisory's at-risk (VMware) verdict names as missing. */
function missingCorroboration(): string[] {
  const rule = advisory(VXLAN).verdicts?.find((r) => r.status === "at-risk");
  assert.ok(rule?.missing && rule.missing.length > 0);
  return rule.missing;
}

/** At risk on every node: offload on, on VMware, with the node-agent facts named as missing. */
function expectVxlanAtRisk(
  report: Report,
  owner: "flannel-vxlan-backend" | "calico-owned-vxlan-exposed",
): void {
  const missing = missingCorroboration();
  for (const [node, v] of expectStatus(report, VXLAN, "at-risk")) {
    assert.equal(conditionData(v, "vxlan-offload-on").holds, true, node);
    assert.equal(conditionData(v, owner).holds, true, `${node}: ${owner}`);
    assert.equal(conditionData(v, "vmware-platform").holds, true, node);
    for (const id of missing) {
      // Undecided (no node-agent data in a live scan), and named in the verdict.
      assert.equal(conditionData(v, id).holds, undefined, `${node}: ${id} undecided`);
      assert.ok(
        v.reasons.some((r) => r.includes(id)),
        `${node}: ${id} named as missing in ${JSON.stringify(v.reasons)}`,
      );
    }
  }
  const agentGap = report.coverage.find((x) => x.check === "node-agent");
  assert.equal(agentGap?.status, "not-evaluated");
  assert.equal(agentGap.material, false);
}

describe(
  "CNID-2021-0001 on the rke2-calico VXLAN scenarios (one cluster, moved between them)",
  { timeout: 240_000 },
  () => {
    const removed = scenario("vxlan-vsphere-calico-override-removed");
    let cluster: ClusterInfo | undefined;
    const info = (): ClusterInfo => {
      assert.ok(cluster, "cluster did not start");
      return cluster;
    };
    clusterForSuite({ scenario: removed.name, nodes: NODES, name: `it-adv-vxlan-${process.pid}` }, (i) => {
      cluster = i;
    });

    /** Gives the running cluster `target`'s FelixConfiguration and IPPools, as the harness creates them. */
    async function become(target: Scenario): Promise<void> {
      const calicoOnly = (x: Scenario): Scenario => ({
        ...x,
        name: "",
        description: "",
        felixConfiguration: {},
        ipPools: [],
      });
      assert.deepEqual(
        calicoOnly(target),
        calicoOnly(removed),
        `${target.name} differs from ${removed.name} only in Calico objects`,
      );
      for (const o of calicoObjects(target).filter(
        (x) => x.kind === "FelixConfiguration" || x.kind === "IPPool",
      )) {
        const resource = `${o.kind === "IPPool" ? "ippools" : "felixconfigurations"}.crd.projectcalico.org`;
        const live = JSON.parse(
          await kubectl(info().kubeconfig, ["get", resource, o.metadata.name, "-o", "json"]),
        ) as {
          spec: unknown;
        };
        live.spec = o.spec;
        const file = join(work, `${o.kind}-${o.metadata.name}.json`);
        writeFileSync(file, JSON.stringify(live));
        await kubectl(info().kubeconfig, ["replace", "-f", file]);
        const now = JSON.parse(
          await kubectl(info().kubeconfig, ["get", resource, o.metadata.name, "-o", "json"]),
        ) as {
          spec: unknown;
        };
        assert.deepEqual(now.spec, o.spec);
      }
    }

    test("override removed: at risk on every node, naming the missing corroboration; plan restores featureDetectOverride (FelixConfiguration and HelmChartConfig)", async () => {
      const { code, report } = await scan(info());
      assert.equal(code, 3);
      expectVxlanAtRisk(report, "calico-owned-vxlan-exposed");
      for (const [node, v] of verdictsOf(report, VXLAN)) {
        assert.equal(conditionData(v, "calico-vxlan-pool").value, "Always", node);
        assert.equal(
          conditionData(v, "felix-leaves-offload-on").value,
          false,
          `${node}: ChecksumOffloadBroken`,
        );
      }
      expectStatus(report, XDP, "not-affected");
      expectStatus(report, FLANNEL, "not-affected");

      const a = advisory(VXLAN);
      const p = await plan(info(), VXLAN);
      checkSteps(p, a);
      const felix = step(p, "felix-checksum-offload-override", "kube-patch");
      assert.equal(felix.default, true);
      assert.equal(felix.alreadyApplied, false);
      assert.deepEqual(felix.target, {
        apiVersion: "crd.projectcalico.org/v1",
        kind: "FelixConfiguration",
        plural: "felixconfigurations",
        name: "default",
      });
      assert.deepEqual(felix.patch, { spec: { featureDetectOverride: "ChecksumOffloadBroken=true" } });
      assert.deepEqual(added(felix.diff), ["  featureDetectOverride: ChecksumOffloadBroken=true"]);
      const helm = step(p, "rke2-calico-restore-override", "file-write");
      assert.equal(helm.default, true);
      assert.deepEqual(helmChartConfig(helm, "rke2-calico"), {
        felixConfiguration: { featureDetectOverride: "ChecksumOffloadBroken=true" },
      });
      // Calico owns the device here: flannel's udev rule and DaemonSet are not planned.
      assert.equal(
        p.steps.find((s) => s.remediationId.startsWith("flannel-tx-checksum-off")),
        undefined,
      );
    });

    test("node agent on fake hosts: UDP InCsumErrors rising sets the advisory's Node condition True on that node only, counted by the corroborating condition", async () => {
      const c = info();
      const type = advisory(VXLAN).presentation?.conditionType;
      assert.equal(type, "VXLANChecksumOffloadErrors");
      await kubectl(c.kubeconfig, ["apply", "-f", join(REPO, "deploy", "agent", "namespace.yaml")]);
      await kubectl(c.kubeconfig, ["apply", "-f", join(REPO, "deploy", "agent", "rbac.yaml")]);
      const kubeconfig = await agentKubeconfig(c);
      const nodes = (
        await kubectl(c.kubeconfig, ["get", "nodes", "-o", "jsonpath={.items[*].metadata.name}"])
      )
        .trim()
        .split(" ");
      assert.equal(nodes.length, NODES);
      // A: InCsumErrors rise between two readings; B: flat; the third node runs no agent.
      const [rising, flat, idle] = nodes as [string, string, string];
      const baseline = { [rising]: 412, [flat]: 96 };
      const agents: FactsAgent[] = [];
      try {
        for (const node of [rising, flat])
          agents.push(startFactsAgent(node, baseline[node] ?? 0, kubeconfig));
        // Each agent's first reading is its baseline: the counter rises only after it.
        for (const a of agents)
          await waitFor(`${a.node}'s first UDP InCsumErrors reading`, async () =>
            (await agentMetric(a, `cnidoctor_node_udp_in_csum_errors_total{node="${a.node}"}`)) ===
            baseline[a.node]
              ? true
              : undefined,
          );
        const [hot, calm] = agents as [FactsAgent, FactsAgent];
        const raisedAt = new Date().toISOString();
        writeFileSync(hot.snmp, snmp(1187));
        const matches = (a: FactsAgent): Promise<number | undefined> =>
          agentMetric(
            a,
            `cnidoctor_signature_matches_total{advisory="${VXLAN}",signature="udp-checksum-errors-rising",node="${a.node}"}`,
          );
        // Counted by the rise, once: the next reading's baseline is the new value.
        const counted = await waitFor(
          `${rising}'s match counter`,
          async () => {
            const n = await matches(hot);
            return n !== undefined && n > 0 ? n : undefined;
          },
          10_000,
        ).catch(withStderr(hot));
        assert.equal(counted, 1187 - 412, `${rising}'s match counter`);
        const cond = await waitFor(
          `${type} True on ${rising}`,
          async () => {
            const found = (await nodeConditions(c, rising)).find((x) => x.type === type);
            return found?.status === "True" ? found : undefined;
          },
          10_000,
        ).catch(withStderr(hot));
        assert.equal(cond.reason, "SymptomSeen");
        // Two readings of B after A's rise: the first may still be in its pass, the second comes
        // after that pass's Node writes.
        const seen = await nextFactsRead(calm, raisedAt);
        await nextFactsRead(calm, seen.readAt);
        assert.deepEqual(
          [seen.udpInCsumErrors?.first, seen.udpInCsumErrors?.last],
          [96, 96],
          `${flat}'s readings`,
        );
        assert.equal(await matches(calm), 0, `${flat}'s match counter`);
        assert.equal(await matches(hot), counted, `${rising} counted once`);
        // No symptom: the agent writes the condition False (NoSymptom), it does not leave it out.
        const calmCond = (await nodeConditions(c, flat)).find((x) => x.type === type);
        assert.equal(calmCond?.status, "False", `${type} on ${flat}`);
        assert.equal(calmCond.reason, "NoSymptom");
        assert.equal(
          (await nodeConditions(c, idle)).find((x) => x.type === type),
          undefined,
          `${idle} runs no agent`,
        );
        for (const a of agents) {
          const exited = new Promise<number | null>((r) => a.proc.once("exit", (code) => r(code)));
          a.proc.kill("SIGTERM");
          assert.equal(await exited, 0, a.stderr.join(""));
        }
      } finally {
        for (const a of agents)
          if (a.proc.exitCode === null && a.proc.signalCode === null) a.proc.kill("SIGKILL");
      }
    });

    test("protected (the chart's featureDetectOverride kept): not affected; plan has nothing to do", async () => {
      await become(scenario("vxlan-vsphere-calico-protected"));
      const { code, report } = await scan(info());
      assert.equal(code, 0);
      for (const [node, v] of expectStatus(report, VXLAN, "not-affected")) {
        assert.equal(conditionData(v, "calico-vxlan-pool").holds, true, node);
        assert.equal(conditionData(v, "felix-leaves-offload-on").holds, false, node);
        assert.equal(conditionData(v, "vxlan-offload-on").holds, false, node);
        // Still on vSphere: the platform is not what decides.
        assert.equal(conditionData(v, "vmware-platform").holds, true, node);
      }
      const p = await plan(info(), VXLAN);
      assert.deepEqual(
        p.steps.filter(
          (s) =>
            s.default ||
            advisory(VXLAN).remediations.find((r) => r.id === s.remediationId)?.kind !== "monitoring",
        ),
        [],
        "only the optional alert rules",
      );
    });

    test("IPIP pool on vSphere (the lookalike): not affected", async () => {
      await become(scenario("vxlan-vsphere-calico-ipip"));
      const { code, report } = await scan(info());
      assert.equal(code, 0);
      for (const [node, v] of expectStatus(report, VXLAN, "not-affected")) {
        assert.equal(conditionData(v, "calico-vxlan-pool").holds, false, node);
        // Felix would leave offload on, but owns no VXLAN device.
        assert.equal(conditionData(v, "felix-leaves-offload-on").holds, true, node);
        assert.equal(conditionData(v, "vxlan-offload-on").holds, false, node);
      }
    });
  },
);

describe("CNID-2021-0001 on vxlan-vsphere-canal", { timeout: 180_000 }, () => {
  const sc = scenario("vxlan-vsphere-canal");
  let cluster: ClusterInfo | undefined;
  const info = (): ClusterInfo => {
    assert.ok(cluster, "cluster did not start");
    return cluster;
  };
  clusterForSuite({ scenario: sc.name, nodes: NODES, name: `it-adv-canal-${process.pid}` }, (i) => {
    cluster = i;
  });

  test("flannel's vxlan backend read from rke2-canal-config: at risk on every node; the fixed flannel is no CNID-2024-0002 lookalike; plan turns offload off on flannel.1", async () => {
    const { code, report } = await scan(info());
    assert.equal(code, 3);
    expectVxlanAtRisk(report, "flannel-vxlan-backend");
    for (const [node, v] of verdictsOf(report, VXLAN)) {
      const backend = conditionData(v, "flannel-vxlan-backend");
      assert.equal(backend.assumed, false, `${node}: read, not assumed`);
      assert.equal(backend.value, "vxlan", node);
    }
    for (const [node, v] of expectStatus(report, FLANNEL, "not-affected"))
      assert.ok(evidence(v, "version", "flannelVersion", "v0.26.4"), node);
    expectStatus(report, XDP, "not-affected");

    const a = advisory(VXLAN);
    const p = await plan(info(), VXLAN);
    checkSteps(p, a);
    const udev = step(p, "flannel-udev-rule", "file-write");
    assert.equal(udev.destination, "/etc/udev/rules.d/90-flannel.rules");
    assert.deepEqual(added(udev.diff), udev.content.replace(/\n$/, "").split("\n"));
    assert.ok(
      udev.content
        .split("\n")
        .some((l) => l.includes('ENV{INTERFACE}=="flannel.1"') && l.includes("tx-checksum-ip-generic off")),
    );
    const ds = step(p, "flannel-offload-daemonset", "file-write");
    const doc = parseYaml(ds.content) as {
      kind: string;
      spec: { template: { spec: { hostNetwork: boolean } } };
    };
    assert.equal(doc.kind, "DaemonSet");
    assert.equal(doc.spec.template.spec.hostNetwork, true);
    // flannel owns flannel.1: Felix's override would not reach it.
    assert.equal(
      p.steps.find((s) => s.remediationId.startsWith("felixconfiguration-")),
      undefined,
    );
  });
});

describe("alerts --advisory", () => {
  for (const id of [FLANNEL, VXLAN]) {
    test(`${id}: promtool check rules accepts its rules, named as the advisory presents them`, () => {
      const a = advisory(id);
      const r = spawnSync(
        process.execPath,
        [join(REPO, "dist/src/cli/bin.js"), "alerts", "--advisory", id, "--format", "rules"],
        {
          encoding: "utf8",
        },
      );
      assert.equal(r.status, 0, r.stderr);
      const rules = (parseYaml(r.stdout) as { groups: { rules: { alert?: string }[] }[] }).groups.flatMap(
        (g) => g.rules,
      );
      assert.deepEqual(
        rules.flatMap((x) => (x.alert !== undefined ? [x.alert] : [])).sort(),
        [a.presentation?.alerts?.signatureSeen?.name, a.presentation?.alerts?.signatureRate?.name].sort(),
      );
      const file = join(work, `${id}-rules.yaml`);
      writeFileSync(file, r.stdout);
      const check = spawnSync(PROMTOOL, ["check", "rules", file], { encoding: "utf8" });
      assert.equal(check.status, 0, `${check.stdout}${check.stderr}`);
      assert.match(`${check.stdout}${check.stderr}`, new RegExp(`SUCCESS: ${rules.length} rules found`));
    });
  }
});
