// Prometheus alert rules for an advisory, generated from its data: the signature rate (from the
// cnidoctor agent's log-derived counter), the CPU of the advisory's container against its peers,
// and the slope of its working set. Thresholds are the advisory's `symptoms`. The output must pass `promtool check
// rules`; alerts/tests/ holds `promtool test rules` cases for the committed file.

import { stringify } from "yaml";
import type { Advisory, AlertText } from "../model/advisory.js";
import { corroboratingAgentFacts } from "../analyze/corroboration.js";

/**
 * The counter the cnidoctor node agent exports: log records matching a signature, per advisory,
 * signature id and node. Documented in docs/remediation.md; the agent implements it.
 */
export const SIGNATURE_COUNTER = "cnidoctor_signature_matches_total";

export const ALERT_FORMATS = ["rules", "prometheusrule"] as const;
export type AlertFormat = (typeof ALERT_FORMATS)[number];

interface Rule {
  record?: string;
  alert?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

function slug(id: string): string {
  return id.toLowerCase().replace(/[^a-z0-9]+/g, "_");
}

/** "CNID-2099-0001" → "Cnid20990001", for alert names an advisory does not give. */
function pascal(id: string): string {
  return id
    .split(/[^A-Za-z0-9]+/)
    .filter((w) => w !== "")
    .map((w) => `${w.charAt(0).toUpperCase()}${w.slice(1).toLowerCase()}`)
    .join("");
}

/** "calico-node" → "CalicoNode": the container's part of its resource alert names. */
function containerPascal(container: string): string {
  return pascal(container).replace(/^(\d)/, "Cnidoctor$1");
}

/** "calico-node" → "calico_node": the container's part of its recording rule names. */
function containerSnake(container: string): string {
  return container.toLowerCase().replace(/[^a-z0-9]+/g, "_");
}

/** The advisory's own words for its two signature alerts, else generic ones built from its id. */
function signatureAlerts(advisory: Advisory): { seen: Required<AlertText>; rate: Required<AlertText> } {
  const id = advisory.id;
  const container = advisory.component.container;
  const given = advisory.presentation?.alerts;
  const withId = (text: string): string => text.replaceAll("{id}", id);
  return {
    seen: {
      name: given?.signatureSeen?.name ?? `Cnidoctor${pascal(id)}SignatureSeen`,
      summary: withId(
        given?.signatureSeen?.summary ?? `{id} signature in ${container} logs on {{ $labels.node }}`,
      ),
      description:
        given?.signatureSeen?.description ??
        `A ${container} log on {{ $labels.node }} matched a symptom signature of ${id} in the last hour.`,
    },
    rate: {
      name: given?.signatureRate?.name ?? `Cnidoctor${pascal(id)}SignatureRate`,
      summary: withId(
        given?.signatureRate?.summary ??
          "{id} signature on {{ $labels.node }}: {{ $value | humanize }} signature matches per hour",
      ),
      description: given?.signatureRate?.description ?? `The symptom of ${id} persists.`,
    },
  };
}

/** Whether the advisory's rules include its container's CPU and memory alerts (the default). */
export function hasResourceAlerts(advisory: Advisory): boolean {
  return advisory.presentation?.alerts?.resources !== false;
}

export function alertRuleGroups(advisory: Advisory): { name: string; rules: Rule[] }[] {
  const s = advisory.symptoms;
  const id = advisory.id;
  // The agent counts its corroborating node facts under the same counter, labelled by condition id.
  const symptomIds = [
    ...advisory.signatures.filter((x) => x.role === "symptom").map((x) => x.id),
    ...corroboratingAgentFacts(advisory).map((c) => c.id),
  ];
  const sel = `advisory="${id}", signature=~"${symptomIds.join("|")}"`;
  const container = advisory.component.container;
  const cpu = `cnidoctor:${containerSnake(container)}_cpu_cores:rate5m`;
  const memSlope = `cnidoctor:${containerSnake(container)}_working_set_mib_per_hour:deriv1h`;
  const sigRate = `cnidoctor:signature_matches_per_hour:rate15m`;
  const common = { advisory: id, component: advisory.component.container };
  const runbook = `Run \`cnidoctor scan\` and \`cnidoctor plan\`; see docs/remediation.md. ${advisory.title}.`;
  const text = signatureAlerts(advisory);
  const rules: Rule[] = [
    { record: sigRate, expr: `sum by (advisory, node) (rate(${SIGNATURE_COUNTER}{${sel}}[15m])) * 3600` },
    {
      record: cpu,
      expr: `sum by (namespace, pod) (rate(container_cpu_usage_seconds_total{container="${advisory.component.container}"}[5m]))`,
    },
    {
      record: memSlope,
      expr: `deriv(container_memory_working_set_bytes{container="${advisory.component.container}"}[1h]) * 3600 / 1048576`,
    },
    {
      alert: text.seen.name,
      expr: `sum by (advisory, node) (increase(${SIGNATURE_COUNTER}{${sel}}[1h])) > 0`,
      labels: { severity: "warning", ...common },
      annotations: {
        summary: text.seen.summary,
        description: `${text.seen.description} ${runbook}`,
      },
    },
    {
      alert: text.rate.name,
      expr: `${sigRate} > ${s.signatureRatePerHour}`,
      for: "15m",
      labels: { severity: "critical", ...common },
      annotations: {
        summary: text.rate.summary,
        description: `More than ${s.signatureRatePerHour}/h for 15 minutes: ${text.rate.description} ${runbook}`,
      },
    },
    {
      alert: `${containerPascal(container)}CpuAbovePeers`,
      expr: `${cpu} > scalar(${s.cpuPeerRatio} * quantile(0.5, ${cpu})) and ${cpu} > 0.1`,
      for: "30m",
      labels: { severity: "warning", ...common },
      annotations: {
        summary: `${container} {{ $labels.namespace }}/{{ $labels.pod }} uses {{ $value | humanize }} cores, over ${s.cpuPeerRatio}x the median of its peers`,
        description: `A symptom of ${id} when the pod's log also shows the signature. ${runbook}`,
      },
    },
    {
      alert: `${containerPascal(container)}MemoryGrowing`,
      expr: `${memSlope} > ${s.memorySlopeMiBPerHour}`,
      for: "1h",
      labels: { severity: "warning", ...common },
      annotations: {
        summary: `${container} {{ $labels.namespace }}/{{ $labels.pod }} working set grows {{ $value | humanize }} MiB/h`,
        description: `Sustained growth above ${s.memorySlopeMiBPerHour} MiB/h, a symptom of ${id}. ${runbook}`,
      },
    },
  ];
  const resources = hasResourceAlerts(advisory);
  const resourceRule = (r: Rule): boolean =>
    r.record === cpu || r.record === memSlope || r.expr.includes(cpu) || r.expr.includes(memSlope);
  return [
    { name: `cnidoctor-${slug(id)}`, rules: resources ? rules : rules.filter((r) => !resourceRule(r)) },
  ];
}

const HEADER =
  "# Generated by `cnidoctor alerts` from the advisory data; do not edit by hand.\n" +
  `# ${SIGNATURE_COUNTER}{advisory,signature,node} is exported by the cnidoctor node agent.\n`;

export function alertRulesDocument(advisory: Advisory, format: AlertFormat): string {
  const groups = alertRuleGroups(advisory);
  if (format === "rules") return HEADER + stringify({ groups }, { lineWidth: 0 });
  const doc = {
    apiVersion: "monitoring.coreos.com/v1",
    kind: "PrometheusRule",
    metadata: {
      name: `cnidoctor-${advisory.id.toLowerCase()}`,
      labels: { "app.kubernetes.io/name": "cnidoctor" },
    },
    spec: { groups },
  };
  return HEADER + stringify(doc, { lineWidth: 0 });
}

/**
 * Several advisories' groups as one rule set. Their recording rules share names (the CPU and
 * memory ones are the same rule; the signature rates differ only in their selector, and each
 * result carries its advisory label), so they move into one recording group, a shared name's
 * expressions joined with `or`: Prometheus rejects a rule set that records a name twice.
 */
function combinedGroups(advisories: readonly Advisory[]): { name: string; rules: Rule[] }[] {
  const groups = advisories.flatMap(alertRuleGroups);
  const records = new Map<string, string[]>();
  for (const r of groups.flatMap((g) => g.rules)) {
    if (r.record === undefined) continue;
    const exprs = records.get(r.record) ?? [];
    if (!exprs.includes(r.expr)) exprs.push(r.expr);
    records.set(r.record, exprs);
  }
  const recording = {
    name: "cnidoctor-recording",
    rules: [...records].map(([record, exprs]) => ({
      record,
      expr: exprs.length === 1 ? (exprs[0] ?? "") : exprs.map((e) => `(${e})`).join(" or "),
    })),
  };
  return [recording, ...groups.map((g) => ({ ...g, rules: g.rules.filter((r) => r.record === undefined) }))];
}

/** The rules of the given advisories: one advisory's document as alertRulesDocument writes it. */
export function alertRulesDocuments(advisories: readonly Advisory[], format: AlertFormat): string {
  const [only] = advisories;
  if (advisories.length === 1 && only !== undefined) return alertRulesDocument(only, format);
  const groups = combinedGroups(advisories);
  if (format === "rules") return HEADER + stringify({ groups }, { lineWidth: 0 });
  const doc = {
    apiVersion: "monitoring.coreos.com/v1",
    kind: "PrometheusRule",
    metadata: { name: "cnidoctor", labels: { "app.kubernetes.io/name": "cnidoctor" } },
    spec: { groups },
  };
  return HEADER + stringify(doc, { lineWidth: 0 });
}
