// Condition kinds over objects, node spec, agent facts and version-dependent Felix flags, and the
// status rules over them, each on the smallest input that decides it.

import { test } from "node:test";
import assert from "node:assert/strict";
import type { Condition, FeatureDefault, VerdictRule } from "../model/advisory.js";
import type { AgentNodeFacts, ContainerFacts, NodeFacts } from "../model/snapshot.js";
import { evaluateConditions } from "./conditions.js";
import type { ConditionContext } from "./condition-result.js";
import { featureDefault, overrideValue } from "./felix-feature.js";
import { applyVerdictRules } from "./verdict-rules.js";

const NODE: NodeFacts = {
  name: "n1",
  kernelVersion: "5.15.0-131-generic",
  distribution: { value: "rke2", from: { source: "node", ref: "test" } },
  providerID: "vsphere://4230-1",
  labels: { "node.kubernetes.io/instance-type": "vsphere-vm.cpu-4" },
  annotations: {},
};

function ctx(extra: Partial<ConditionContext> = {}): ConditionContext {
  return {
    node: "n1",
    nodeFacts: NODE,
    container: undefined,
    felixConfigurations: [],
    mode: "bundle",
    ...extra,
  };
}

function one(cond: Condition, c: ConditionContext): ReturnType<typeof evaluateConditions>[number] {
  const r = evaluateConditions([cond], c)[0];
  assert.ok(r !== undefined);
  return r;
}

const FLANNEL: Condition = {
  id: "flannel-vxlan",
  kind: "object-field",
  resource: "configmaps",
  names: ["canal-config"],
  namespaces: ["kube-system"],
  path: ["data", "net-conf.json"],
  json: ["Backend", "Type"],
  pattern: "^vxlan$",
  ignoreCase: true,
  assume: [{ value: "vxlan", plugins: ["canal"] }],
  effect: "required",
  description: "flannel backend is vxlan",
};

function configMap(netConf: string): ConditionContext["objects"] {
  return {
    configmaps: {
      items: [
        {
          namespace: "kube-system",
          name: "canal-config",
          body: { data: { "net-conf.json": netConf } },
          ref: "B/kube-system/configmaps.json ConfigMap kube-system/canal-config",
        },
      ],
      where: "kube-system/canal-config",
    },
  };
}

test("object-field reads a JSON key inside a ConfigMap and says where", () => {
  const r = one(FLANNEL, ctx({ objects: configMap('{"Backend":{"Type":"VXLAN","Port":8472}}') }));
  assert.equal(r.holds, true);
  assert.equal(r.value, "VXLAN");
  assert.equal(r.source, "B/kube-system/configmaps.json ConfigMap kube-system/canal-config");
  const hostGw = one(FLANNEL, ctx({ objects: configMap('{"Backend":{"Type":"host-gw"}}') }));
  assert.equal(hostGw.holds, false);
  assert.match(hostGw.message, /canal-config: host-gw/);
  const broken = one(FLANNEL, ctx({ objects: configMap("{not json") }));
  assert.equal(broken.holds, undefined);
  assert.match(broken.message, /not JSON/);
});

test("object-field assumes the plugin's rendered value only when the object was not read, and says so", () => {
  const canal = one(FLANNEL, ctx({ plugin: "canal" }));
  assert.equal(canal.holds, true);
  assert.equal(canal.assumed, true);
  assert.match(canal.message, /assumed vxlan, what a canal install renders \(configmaps were not read\)/);
  const calico = one(FLANNEL, ctx({ plugin: "calico" }));
  assert.equal(calico.holds, undefined, "no assumption is given for calico here");
  const none = one(FLANNEL, ctx({ plugin: "calico", objects: { configmaps: { items: [], where: "" } } }));
  assert.equal(none.holds, false);
});

test("object-field over IPPools: any pool in VXLAN mode holds; IPIP pools do not", () => {
  const cond: Condition = {
    id: "pool",
    kind: "object-field",
    resource: "ippools",
    path: ["spec", "vxlanMode"],
    pattern: "^(Always|CrossSubnet)$",
    effect: "required",
    description: "a VXLAN pool",
  };
  const pools = (mode: string): ConditionContext["objects"] => ({
    ippools: {
      items: [
        {
          namespace: "",
          name: "default-ipv4-ippool",
          body: { spec: { vxlanMode: mode, ipipMode: "Always" } },
          ref: "api IPPool default-ipv4-ippool",
        },
      ],
      where: "api",
    },
  });
  assert.equal(one(cond, ctx({ objects: pools("CrossSubnet") })).holds, true);
  assert.equal(one(cond, ctx({ objects: pools("Never") })).holds, false);
  assert.equal(one(cond, ctx()).holds, undefined, "IPPools not read");
});

test("node-fact reads spec.providerID and a label", () => {
  const provider: Condition = {
    id: "vsphere",
    kind: "node-fact",
    fact: "providerID",
    pattern: "^vsphere://",
    effect: "risk-factor",
    description: "vSphere provider",
  };
  const r = one(provider, ctx());
  assert.equal(r.holds, true);
  assert.equal(r.source, "node n1 spec.providerID");
  const label: Condition = {
    ...provider,
    id: "it",
    fact: "label",
    label: "node.kubernetes.io/instance-type",
    pattern: "^vsphere-vm\\.",
  };
  assert.equal(one(label, ctx()).holds, true);
  const bare = { ...NODE, labels: {} };
  delete bare.providerID;
  assert.equal(one(provider, ctx({ nodeFacts: bare })).holds, false);
  assert.equal(one(label, ctx({ nodeFacts: bare })).holds, false);
});

const AGENT: AgentNodeFacts = {
  node: "n1",
  readAt: "2025-03-10T09:03:00Z",
  nicDriver: { value: "vmxnet3", source: "/sys/class/net/ens192/device/driver" },
  udpInCsumErrors: { first: 10, last: 25, source: "/proc/1/net/snmp Udp InCsumErrors" },
  kernelLog: {
    lines: ["[ 1.0] UDP: bad checksum. From 10.0.0.2:1 to 10.0.0.1:8472 ulen 75", "[ 2.0] other"],
    source: "/dev/kmsg",
  },
  unavailable: {},
};

test("agent-fact is 'not available in this mode' without node agent data, and read from it when present", () => {
  const rising: Condition = {
    id: "csum",
    kind: "agent-fact",
    fact: "udpInCsumErrorsRising",
    effect: "risk-factor",
    description: "checksum errors rising",
  };
  const missing = one(rising, ctx({ mode: "live" }));
  assert.equal(missing.holds, undefined);
  assert.equal(missing.unavailable, true);
  assert.equal(
    missing.message,
    "udpInCsumErrorsRising is not available in a live scan: no node agent data for node n1",
  );
  const r = one(rising, ctx({ agent: AGENT }));
  assert.equal(r.holds, true);
  assert.match(r.message, /rose from 10 to 25/);
  assert.equal(
    one(rising, ctx({ agent: { ...AGENT, udpInCsumErrors: { first: 25, last: 25, source: "s" } } })).holds,
    false,
  );
  const log: Condition = {
    id: "klog",
    kind: "agent-fact",
    fact: "kernelLog",
    pattern: "UDP: bad checksum",
    effect: "risk-factor",
    description: "kernel line",
  };
  const k = one(log, ctx({ agent: AGENT }));
  assert.equal(k.holds, true);
  assert.equal(k.value, "1");
  const nokmsg = one(
    log,
    ctx({
      agent: {
        ...AGENT,
        kernelLog: undefined,
        unavailable: { kernelLog: "/dev/kmsg: EPERM" },
      },
    }),
  );
  assert.equal(nokmsg.holds, undefined);
  assert.match(nokmsg.message, /EPERM/);
});

test("agent-fact from Prometheus: an increase across resets, kernel matches by condition id, and typed hints when missing", () => {
  const rising: Condition = {
    id: "csum",
    kind: "agent-fact",
    fact: "udpInCsumErrorsRising",
    effect: "risk-factor",
    description: "checksum errors rising",
  };
  const log: Condition = {
    id: "klog",
    kind: "agent-fact",
    fact: "kernelLog",
    pattern: "UDP: bad checksum",
    effect: "risk-factor",
    description: "kernel line",
  };
  const fromProm: AgentNodeFacts = {
    node: "n1",
    readAt: "2025-03-10T09:03:00Z",
    // 900 → (reboot) 0 → 4: last < first, yet the counter rose by 4.
    udpInCsumErrors: { first: 900, last: 4, increase: 4, resets: 1, source: "Prometheus p q" },
    kernelLog: { lines: [], matches: { klog: 3 }, source: "Prometheus p k" },
    unavailable: {},
    source: { kind: "prometheus", url: "p", series: [], window: { start: "a", end: "b" } },
  };
  const r = one(rising, ctx({ agent: fromProm }));
  assert.equal(r.holds, true);
  assert.equal(r.value, "4");
  assert.equal(
    r.message,
    "UDP InCsumErrors rose by 4 from 900 to 4, across 1 counter reset(s) (read by the node agent, from Prometheus at 2025-03-10T09:03:00Z)",
  );
  const flat = one(
    rising,
    ctx({ agent: { ...fromProm, udpInCsumErrors: { first: 7, last: 7, increase: 0, source: "s" } } }),
  );
  assert.equal(flat.holds, false);
  const k = one(log, ctx({ agent: fromProm }));
  assert.deepEqual([k.holds, k.value, k.source], [true, "3", "Prometheus p k"]);
  assert.match(
    k.message,
    /^3 kernel log record\(s\) matched klog \(read by the node agent, from Prometheus at /,
  );
  const none = one(
    log,
    ctx({ agent: { ...fromProm, kernelLog: { lines: [], matches: { klog: 0 }, source: "s" } } }),
  );
  assert.equal(none.holds, false);
  // No series for the node: unavailable, with the typed step that would fix it.
  const missing: AgentNodeFacts = {
    node: "n1",
    readAt: "x",
    unavailable: { udpInCsumErrorsRising: "the node agent on n1 is scraped but exports no node facts" },
    missing: "node-facts-disabled",
  };
  const m = one(rising, ctx({ agent: missing, mode: "live" }));
  assert.deepEqual(
    [m.holds, m.unavailable, m.obtain],
    [undefined, true, { helmValue: "agent.nodeFacts.enabled" }],
  );
  assert.equal(
    m.message,
    "udpInCsumErrorsRising is not available: the node agent on n1 is scraped but exports no node facts",
  );
  assert.deepEqual(one(rising, ctx({ mode: "live" })).obtain, {
    helmValue: "agent.nodeFacts.enabled",
    scanFlag: "--prometheus",
  });
  assert.deepEqual(one(log, ctx({ agent: { ...missing, missing: "agent-not-scraped" } })).obtain, {
    scrape: "monitors.podMonitor.enabled",
    helmValue: "agent.nodeFacts.enabled",
  });
});

// Felix's ChecksumOffloadBroken default per Calico tag (feature_detect*.go at each tag).
const DEFAULTS: FeatureDefault[] = [
  { introduced: "3.0.0", fixed: "3.24.6", kernelBelow: "5.7.0" },
  { introduced: "3.24.6", fixed: "3.28.0", value: true },
  { introduced: "3.28.0", fixed: "3.28.1", kernelAtMost: "5.7.0" },
  { introduced: "3.28.1", fixed: "3.28.2", value: true },
  { introduced: "3.28.2", kernelAtMost: "5.7.0" },
];

test("a Felix default that depends on the Calico version and the kernel", () => {
  const value = (calico: string, kernel: string): boolean | undefined => {
    const d = featureDefault(DEFAULTS, calico, kernel);
    return "value" in d ? d.value : undefined;
  };
  assert.equal(value("v3.24.5", "5.4.0-177-generic"), true);
  assert.equal(value("v3.24.5", "5.7.0"), false, "< 5.7 only");
  assert.equal(value("v3.24.6", "6.8.0"), true);
  assert.equal(value("v3.27.5", "5.15.0"), true);
  assert.equal(value("v3.28.0", "5.7.0"), true, "<= 5.7.0");
  assert.equal(value("v3.28.0", "5.15.0"), false);
  assert.equal(value("v3.28.1", "5.15.0"), true);
  assert.equal(value("v3.28.2", "5.15.0"), false);
  assert.equal(value("v3.29.2", "5.4.0"), true);
  assert.equal(value("v3.31.2", "6.8.0"), false);
  assert.deepEqual(featureDefault(DEFAULTS, undefined, "5.15.0"), {
    missing: "the Calico version is not known",
  });
  assert.equal(overrideValue("A=true, ChecksumOffloadBroken=true", "ChecksumOffloadBroken"), true);
  assert.equal(overrideValue("A=true", "ChecksumOffloadBroken"), undefined);
});

const FEATURE: Condition = {
  id: "felix-off",
  kind: "felix-feature",
  feature: "ChecksumOffloadBroken",
  equals: false,
  defaults: DEFAULTS,
  observed: { true: ["says-true"], false: ["says-false"] },
  effect: "required",
  description: "Felix leaves offload on",
};

function container(env: Record<string, string>): ContainerFacts {
  return {
    name: "calico-node",
    image: { value: { raw: "x", repository: "x" }, from: { source: "daemonset", ref: "ds" } },
    env: Object.fromEntries(
      Object.entries(env).map(([k, v]) => [
        k,
        { value: v, from: { source: "daemonset" as const, ref: "ds" } },
      ]),
    ),
  };
}

test("felix-feature: env beats FelixConfiguration node.<name>, which beats default; else the version default", () => {
  const fc = (
    name: string,
    override: string,
  ): NonNullable<ConditionContext["felixConfigurations"]>[number] => ({
    name,
    spec: { featureDetectOverride: override },
    from: { source: "felix-configuration", ref: `f ${name}` },
  });
  const base = ctx({ calicoVersion: "v3.29.2" });
  assert.equal(one(FEATURE, base).holds, true, "3.29.2 on 5.15 leaves offload on");
  assert.equal(one(FEATURE, { ...base, calicoVersion: "v3.27.3" }).holds, false);
  const protectedByDefault = { ...base, felixConfigurations: [fc("default", "ChecksumOffloadBroken=true")] };
  const r = one(FEATURE, protectedByDefault);
  assert.equal(r.holds, false);
  assert.match(r.message, /FelixConfiguration default spec.featureDetectOverride/);
  // An override that names other keys only leaves the default in charge.
  assert.equal(
    one(FEATURE, { ...base, felixConfigurations: [fc("default", "SNATFullyRandom=false")] }).holds,
    true,
  );
  assert.equal(
    one(FEATURE, {
      ...protectedByDefault,
      felixConfigurations: [
        fc("default", "ChecksumOffloadBroken=true"),
        fc("node.n1", "ChecksumOffloadBroken=false"),
      ],
    }).holds,
    true,
  );
  const env = {
    ...protectedByDefault,
    container: container({ FELIX_FEATUREDETECTOVERRIDE: "ChecksumOffloadBroken=false" }),
  };
  assert.equal(one(FEATURE, env).holds, true);
  // FelixConfiguration not read: a default that would protect is not trusted (never "not affected" unread).
  assert.equal(
    one(FEATURE, { ...base, calicoVersion: "v3.27.3", felixConfigurations: undefined }).holds,
    undefined,
  );
  // Felix's own log line wins over what its inputs suggest.
  const logged = one(FEATURE, { ...protectedByDefault, signals: { "says-false": 1 } });
  assert.equal(logged.holds, true);
  assert.match(logged.message, /Felix logged ChecksumOffloadBroken=false .*configuration suggested true/);
});

test("all-of / any-of groups are three-valued", () => {
  const leaf = (id: string, pattern: string): Condition => ({
    id,
    kind: "node-fact",
    fact: "providerID",
    pattern,
    effect: "risk-factor",
    description: "leaf condition",
  });
  const agentLeaf: Condition = {
    id: "nic",
    kind: "agent-fact",
    fact: "nicDriver",
    pattern: "^vmxnet3$",
    effect: "risk-factor",
    description: "nic driver",
  };
  const conds: Condition[] = [
    leaf("yes", "^vsphere"),
    leaf("no", "^aws"),
    agentLeaf,
    { id: "any", kind: "any-of", of: ["no", "nic"], effect: "risk-factor", description: "any group" },
    { id: "all", kind: "all-of", of: ["yes", "no"], effect: "risk-factor", description: "all group" },
    { id: "nested", kind: "any-of", of: ["all", "yes"], effect: "risk-factor", description: "nested group" },
  ];
  const byId = (c: ConditionContext): Record<string, boolean | undefined> =>
    Object.fromEntries(evaluateConditions(conds, c).map((r) => [r.id, r.holds]));
  assert.deepEqual(byId(ctx()), {
    yes: true,
    no: false,
    nic: undefined,
    any: undefined,
    all: false,
    nested: true,
  });
  assert.equal(byId(ctx({ agent: AGENT })).any, true);
});

test("status rules: at-risk lists exactly the missing corroboration and why; corroboration makes it affected", () => {
  const conds: Condition[] = [
    {
      id: "exposed",
      kind: "node-fact",
      fact: "providerID",
      pattern: "^vsphere",
      effect: "required",
      description: "exposed setting",
    },
    {
      id: "csum",
      kind: "agent-fact",
      fact: "udpInCsumErrorsRising",
      effect: "risk-factor",
      description: "checksum errors",
    },
    {
      id: "klog",
      kind: "agent-fact",
      fact: "kernelLog",
      pattern: "bad checksum",
      effect: "risk-factor",
      description: "kernel line",
    },
    { id: "seen", kind: "any-of", of: ["csum", "klog"], effect: "risk-factor", description: "corroboration" },
  ];
  const rules: VerdictRule[] = [
    { id: "off", fails: ["exposed"], status: "not-affected", reason: "not exposed at all" },
    {
      id: "hit",
      holds: ["exposed"],
      anyHolds: ["seen"],
      status: "affected",
      reason: "exposed and corroborated",
    },
    {
      id: "risk",
      holds: ["exposed"],
      status: "at-risk",
      reason: "exposed, not corroborated",
      missing: ["csum", "klog"],
    },
  ];
  const noAgent = applyVerdictRules(rules, evaluateConditions(conds, ctx()));
  assert.equal(noAgent.status, "at-risk");
  assert.deepEqual(noAgent.reasons, [
    "exposed, not corroborated",
    "not corroborated; missing: csum (not available: udpInCsumErrorsRising is not available in a bundle scan: no node agent data for node n1); klog (not available: kernelLog is not available in a bundle scan: no node agent data for node n1); to read them: set agent.nodeFacts.enabled=true in the cnidoctor-agent Helm chart (the agent then reads node facts) and scan with --prometheus URL of the Prometheus that scrapes the agent",
  ]);
  // Said in the reasons, not a coverage gap: at risk and affected call for the same fix.
  assert.deepEqual(noAgent.dependsOn, []);
  const quiet = applyVerdictRules(
    rules,
    evaluateConditions(
      conds,
      ctx({
        agent: {
          ...AGENT,
          udpInCsumErrors: { first: 1, last: 1, source: "s" },
          kernelLog: { lines: [], source: "k" },
        },
      }),
    ),
  );
  assert.equal(quiet.status, "at-risk");
  assert.match(quiet.reasons[1] ?? "", /csum \(not seen: UDP InCsumErrors did not rise from 1 to 1/);
  const hit = applyVerdictRules(rules, evaluateConditions(conds, ctx({ agent: AGENT })));
  assert.equal(hit.status, "affected");
  assert.match(hit.reasons[1] ?? "", /^corroborated by seen: holds/);
  const off = applyVerdictRules(
    rules,
    evaluateConditions(conds, ctx({ nodeFacts: { ...NODE, providerID: "aws:///x" } })),
  );
  assert.equal(off.status, "not-affected");
});

test("on a node that runs flannel alone, Felix's settings and features are not applicable, not missing", () => {
  const setting: Condition = {
    id: "ebpf",
    kind: "felix-setting",
    field: "bpfEnabled",
    equals: true,
    default: false,
    description: "Felix runs the eBPF dataplane",
  };
  // Nothing read about Felix: undecided on a Canal node, decided (false) on a flannel one.
  const unread = { felixConfigurations: undefined, calicoVersion: undefined };
  for (const cond of [FEATURE, setting]) {
    const canal = one(cond, ctx({ ...unread, plugin: "canal" }));
    assert.equal(canal.holds, undefined, cond.id);
    assert.equal(canal.needs, "felix-configuration", cond.id);
    const flannel = one(cond, ctx({ ...unread, plugin: "flannel" }));
    assert.equal(flannel.holds, false, cond.id);
    assert.equal(flannel.needs, undefined, cond.id);
    assert.equal(flannel.assumed, false, cond.id);
    assert.match(flannel.message, /^not applicable: node n1 runs flannel without Felix/);
  }
  // Even a Felix log line on the node does not make Felix's conditions apply to a flannel install.
  assert.equal(one(FEATURE, ctx({ plugin: "flannel", signals: { "says-false": 3 } })).holds, false);
  // Conditions about other facts are evaluated as usual there.
  const backend = one(
    FLANNEL,
    ctx({ plugin: "flannel", objects: configMap('{"Backend":{"Type":"vxlan"}}') }),
  );
  assert.equal(backend.holds, true);
});
