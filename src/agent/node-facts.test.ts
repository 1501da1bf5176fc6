// The node facts the agent reads from a host root (here a directory laid out like one), and the
// Node condition it keeps for an advisory those facts corroborate.

import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadAdvisories } from "../advisories/load.js";
import { NodeAgent } from "./agent.js";
import { conditionTypeFor } from "./conditions.js";
import type { NodeApi, NodeCondition, NodeView } from "./kube.js";
import { defaultRouteInterface, NodeFactsReader, parseKmsg, udpInCsumErrors } from "./node-facts.js";

const ROUTE = [
  "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT",
  "flannel.1\t00002A0A\t00002A0A\t0003\t0\t0\t0\t00FFFFFF\t0\t0\t0",
  "ens192\t00000000\t01001E0A\t0003\t0\t0\t100\t00000000\t0\t0\t0",
  "",
].join("\n");

function snmp(inCsum: number): string {
  return [
    "Ip: Forwarding DefaultTTL",
    "Ip: 1 64",
    "Udp: InDatagrams NoPorts InErrors OutDatagrams RcvbufErrors SndbufErrors InCsumErrors IgnoredMulti MemErrors",
    `Udp: 1000 2 ${String(inCsum)} 900 0 0 ${String(inCsum)} 0 0`,
    "UdpLite: InDatagrams NoPorts InErrors OutDatagrams RcvbufErrors SndbufErrors InCsumErrors IgnoredMulti MemErrors",
    "UdpLite: 0 0 0 0 0 0 7 0 0",
    "",
  ].join("\n");
}

function hostRoot(inCsum: number): string {
  const root = mkdtempSync(join(tmpdir(), "cnid-host-"));
  mkdirSync(join(root, "proc", "1", "net"), { recursive: true });
  writeFileSync(join(root, "proc", "1", "net", "route"), ROUTE);
  writeFileSync(join(root, "proc", "1", "net", "snmp"), snmp(inCsum));
  mkdirSync(join(root, "sys", "class", "net", "ens192"), { recursive: true });
  symlinkSync("../../../../bus/pci/drivers/vmxnet3", join(root, "sys", "class", "net", "ens192", "device"));
  // The device link points at the PCI device; its driver link is what names the driver.
  mkdirSync(join(root, "bus", "pci", "drivers", "vmxnet3"), { recursive: true });
  symlinkSync("../../bus/pci/drivers/vmxnet3", join(root, "bus", "pci", "drivers", "vmxnet3", "driver"));
  return root;
}

test("parsers: the default route's interface, Udp InCsumErrors (not UdpLite's), a kmsg record", () => {
  assert.equal(defaultRouteInterface(ROUTE), "ens192");
  assert.equal(defaultRouteInterface(ROUTE.replace("ens192\t00000000", "ens192\t0000FEA9")), undefined);
  assert.equal(udpInCsumErrors(snmp(42)), 42);
  assert.equal(udpInCsumErrors("Ip: a\nIp: 1\n"), undefined);
  assert.deepEqual(
    parseKmsg(
      "4,2051,8123035722,-;UDP: bad checksum. From 10.0.0.2:1 to 10.0.0.1:8472 ulen 75\n SUBSYSTEM=net",
    ),
    {
      seq: 2051,
      usec: 8123035722,
      message: "UDP: bad checksum. From 10.0.0.2:1 to 10.0.0.1:8472 ulen 75",
    },
  );
});

test("the reader keeps the previous counter, names the driver and says why the kernel log is unavailable", async () => {
  const root = hostRoot(5);
  const reader = new NodeFactsReader("n1", {
    hostRoot: root,
    kernelConditions: [{ id: "bad-checksum", pattern: /UDP: bad checksum/ }],
  });
  const first = await reader.read(new Date("2025-03-10T09:00:00Z"));
  assert.equal(first.nicDriver?.value, "vmxnet3");
  assert.match(first.nicDriver?.source ?? "", /default route via ens192/);
  assert.deepEqual(
    { first: first.udpInCsumErrors?.first, last: first.udpInCsumErrors?.last },
    { first: 5, last: 5 },
  );
  assert.match(first.unavailable.kernelLog ?? "", /dev\/kmsg: ENOENT/);
  writeFileSync(join(root, "proc", "1", "net", "snmp"), snmp(19));
  const second = await reader.read(new Date("2025-03-10T09:01:00Z"));
  assert.deepEqual(
    { first: second.udpInCsumErrors?.first, last: second.udpInCsumErrors?.last },
    { first: 5, last: 19 },
  );
  const bare = await new NodeFactsReader("n1", {
    hostRoot: join(root, "nowhere"),
    kernelConditions: [],
  }).read(new Date());
  assert.match(bare.unavailable.nicDriver ?? "", /ENOENT/);
  assert.equal(bare.unavailable.kernelLog, undefined, "no kernel-log condition: the kernel log is not read");
});

class FakeApi implements NodeApi {
  conditions: NodeCondition[] = [];
  getNode(): Promise<NodeView> {
    return Promise.resolve({ uid: "uid-1", conditions: this.conditions.map((c) => ({ ...c })) });
  }
  patchNodeCondition(_name: string, condition: NodeCondition): Promise<void> {
    this.conditions = [...this.conditions.filter((c) => c.type !== condition.type), condition];
    return Promise.resolve();
  }
  createEvent(): Promise<void> {
    return Promise.resolve();
  }
  patchEventSeries(): Promise<boolean> {
    return Promise.resolve(true);
  }
}

test("the agent sets the advisory's Node condition when its corroborating node fact holds", async () => {
  const advisories = await loadAdvisories();
  const vxlan = advisories.find((a) => a.id === "CNID-2021-0001");
  assert.ok(vxlan);
  const type = conditionTypeFor(vxlan);
  assert.equal(type, "VXLANChecksumOffloadErrors");
  const root = hostRoot(3);
  const state = mkdtempSync(join(tmpdir(), "cnid-state-"));
  const logs = mkdtempSync(join(tmpdir(), "cnid-logs-"));
  const api = new FakeApi();
  let now = Date.parse("2025-03-10T09:00:00Z");
  const agent = new NodeAgent({
    node: "n1",
    roots: [logs],
    stateDir: state,
    advisories,
    api,
    clearAfterMs: 10 * 60_000,
    eventIntervalMs: 5 * 60_000,
    pollMs: 1000,
    firstWriteJitterMs: 0,
    log: () => undefined,
    now: () => now,
    random: () => 0,
    hostRoot: root,
    factsIntervalMs: 60_000,
  });
  await agent.start();
  await agent.tick();
  const flat = api.conditions.find((c) => c.type === type);
  assert.equal(flat?.status, "False", "counter flat: no symptom");
  assert.match(flat?.message ?? "", /not seen in this node's calico-node logs or node facts/);
  writeFileSync(join(root, "proc", "1", "net", "snmp"), snmp(40));
  now += 61_000;
  await agent.tick();
  const cond = api.conditions.find((c) => c.type === type);
  assert.equal(cond?.status, "True");
  // The condition names the node fact that showed the symptom, not a log signature.
  assert.match(cond?.message ?? "", /the node fact udp-checksum-errors-rising held \(/);
  assert.doesNotMatch(cond?.message ?? "", /log signature/);
  const text = agent.metrics.registry.render();
  assert.match(
    text,
    /cnidoctor_signature_matches_total\{advisory="CNID-2021-0001",signature="udp-checksum-errors-rising",node="n1"\} 37/,
  );
  const saved = JSON.parse(readFileSync(join(state, "node-facts.json"), "utf8")) as {
    items: { nicDriver: { value: string } }[];
  };
  assert.equal(saved.items[0]?.nicDriver.value, "vmxnet3");
  await agent.stop();
});

/** One /dev/kmsg record in a regular file: a read returns the whole file, as kmsg returns one record. */
function kmsgRecord(root: string, seq: number, message: string): void {
  mkdirSync(join(root, "dev"), { recursive: true });
  writeFileSync(join(root, "dev", "kmsg"), `4,${String(seq)},${String(seq * 1000)},-;${message}\n`);
}

test("the reader counts kernel log matches per condition and names the default-route interface", async () => {
  const root = hostRoot(0);
  kmsgRecord(root, 7, "UDP: bad checksum. From 10.0.0.2:1 to 10.0.0.1:8472 ulen 75");
  const reader = new NodeFactsReader("n1", {
    hostRoot: root,
    kernelConditions: [
      { id: "bad-checksum", pattern: /UDP: bad checksum/ },
      { id: "other", pattern: /never logged/ },
    ],
  });
  const first = await reader.read(new Date());
  assert.equal(first.nicDriver?.interface, "ens192");
  assert.deepEqual(first.kernelLog?.matches, { "bad-checksum": 1, other: 0 });
  // The same record again is not new; a later one is.
  assert.deepEqual((await reader.read(new Date())).kernelLog?.matches, { "bad-checksum": 0, other: 0 });
  kmsgRecord(root, 8, "UDP: bad checksum. From 10.0.0.3:1 to 10.0.0.1:8472 ulen 80");
  assert.deepEqual((await reader.read(new Date())).kernelLog?.matches, { "bad-checksum": 1, other: 0 });
});

/** The exposition lines of one family (HELP, TYPE and its series), in order. */
function family(text: string, name: string): string[] {
  return text
    .split("\n")
    .filter(
      (l) =>
        l.startsWith(`${name}{`) ||
        l.startsWith(`${name} `) ||
        l.endsWith(` ${name} counter`) ||
        l.endsWith(` ${name} gauge`) ||
        l.startsWith(`# HELP ${name} `),
    );
}

test("the agent exports the raw node facts as series: NIC info, the UDP checksum counter, kernel log matches", async () => {
  const advisories = await loadAdvisories();
  const root = hostRoot(12);
  kmsgRecord(root, 3, "UDP: bad checksum. From 10.0.0.2:41873 to 10.0.0.1:8472 ulen 75");
  let now = Date.parse("2025-03-10T09:00:00Z");
  const agent = new NodeAgent({
    node: "n1",
    roots: [mkdtempSync(join(tmpdir(), "cnid-logs-"))],
    stateDir: mkdtempSync(join(tmpdir(), "cnid-state-")),
    advisories,
    clearAfterMs: 10 * 60_000,
    eventIntervalMs: 5 * 60_000,
    pollMs: 1000,
    firstWriteJitterMs: 0,
    log: () => undefined,
    now: () => now,
    hostRoot: root,
    factsIntervalMs: 60_000,
  });
  await agent.start();
  await agent.tick();
  let text = agent.metrics.registry.render();
  assert.deepEqual(family(text, "cnidoctor_node_nic_info"), [
    "# HELP cnidoctor_node_nic_info The NIC carrying the node's default route and its kernel driver (always 1; from /proc/1/net/route and /sys/class/net/<interface>/device/driver under --host-root).",
    "# TYPE cnidoctor_node_nic_info gauge",
    'cnidoctor_node_nic_info{node="n1",interface="ens192",driver="vmxnet3"} 1',
  ]);
  assert.deepEqual(family(text, "cnidoctor_node_udp_in_csum_errors_total").slice(1), [
    "# TYPE cnidoctor_node_udp_in_csum_errors_total counter",
    'cnidoctor_node_udp_in_csum_errors_total{node="n1"} 12',
  ]);
  assert.match(text, /^# HELP cnidoctor_node_udp_in_csum_errors_total The node's UDP InCsumErrors counter/m);
  assert.deepEqual(family(text, "cnidoctor_node_kernel_log_matches_total").slice(1), [
    "# TYPE cnidoctor_node_kernel_log_matches_total counter",
    'cnidoctor_node_kernel_log_matches_total{node="n1",condition="udp-bad-checksum-log"} 1',
  ]);
  assert.deepEqual(family(text, "cnidoctor_node_fact_read_success").slice(2), [
    'cnidoctor_node_fact_read_success{node="n1",fact="nic_driver"} 1',
    'cnidoctor_node_fact_read_success{node="n1",fact="udp_in_csum_errors"} 1',
    'cnidoctor_node_fact_read_success{node="n1",fact="kernel_log"} 1',
  ]);
  // Next reading: the kernel counter is mirrored as read, a reboot's reset included, and the NIC
  // series follows a driver change instead of keeping the old one.
  writeFileSync(join(root, "proc", "1", "net", "snmp"), snmp(3));
  rmSync(join(root, "dev", "kmsg"));
  rmSync(join(root, "sys", "class", "net", "ens192", "device"));
  symlinkSync(
    "../../../../bus/pci/drivers/virtio_net",
    join(root, "sys", "class", "net", "ens192", "device"),
  );
  mkdirSync(join(root, "bus", "pci", "drivers", "virtio_net"), { recursive: true });
  symlinkSync(
    "../../bus/pci/drivers/virtio_net",
    join(root, "bus", "pci", "drivers", "virtio_net", "driver"),
  );
  now += 61_000;
  await agent.tick();
  text = agent.metrics.registry.render();
  assert.deepEqual(family(text, "cnidoctor_node_nic_info").slice(2), [
    'cnidoctor_node_nic_info{node="n1",interface="ens192",driver="virtio_net"} 1',
  ]);
  assert.match(text, /^cnidoctor_node_udp_in_csum_errors_total\{node="n1"\} 3$/m);
  assert.match(
    text,
    /^cnidoctor_node_kernel_log_matches_total\{node="n1",condition="udp-bad-checksum-log"\} 1$/m,
  );
  assert.match(text, /^cnidoctor_node_fact_read_success\{node="n1",fact="kernel_log"\} 0$/m);
  await agent.stop();
});

test("without --host-root the node fact families carry no series", async () => {
  const agent = new NodeAgent({
    node: "n1",
    roots: [mkdtempSync(join(tmpdir(), "cnid-logs-"))],
    stateDir: mkdtempSync(join(tmpdir(), "cnid-state-")),
    advisories: await loadAdvisories(),
    clearAfterMs: 60_000,
    eventIntervalMs: 60_000,
    pollMs: 1000,
    firstWriteJitterMs: 0,
    log: () => undefined,
  });
  await agent.start();
  await agent.tick();
  assert.doesNotMatch(agent.metrics.registry.render(), /^cnidoctor_node_/m);
  await agent.stop();
});
