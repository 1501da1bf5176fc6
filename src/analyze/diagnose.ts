// Diagnosis: one advisory against one snapshot, subject by subject (nodes, or log files when there
// is no cluster). Produces verdicts with their evidence chains; findings are grouped from them.

import type { Advisory } from "../model/advisory.js";
import type { Evidence, SettingFact, Status, SubjectVerdict, VerdictFacts } from "../model/finding.js";
import type { LogSourceResult, SignalStat } from "../model/logs.js";
import type { CniPlugin, Snapshot } from "../model/snapshot.js";
import { evaluateConditions } from "./conditions.js";
import type { ConditionContext, ConditionResult } from "./conditions.js";
import { classifyVersions, matchCombination, versionFacts } from "./combinations.js";
import type { CombinationMatch } from "./combinations.js";
import { decideStatus } from "./decide.js";
import { applyVerdictRules } from "./verdict-rules.js";
import { nodeSubjects } from "./subjects.js";
import type { NodeSubject } from "./subjects.js";
import { summarizeSymptoms, totalCount } from "./symptoms.js";
import type { SymptomSummary } from "./symptoms.js";
import { resolveNodeVersion } from "./version.js";
import { componentEcosystem, ecosystemWords, pluginRuns, samePluginFamily } from "../versions/index.js";
import {
  analyzeResources,
  calloutReason,
  nodeResourceEvidence,
  trendSettings,
  trendsForNode,
} from "./resources.js";
import type { PodTrend } from "./resources.js";

export interface DiagnosedVerdict extends SubjectVerdict {
  dependsOn: string[];
}

export interface Diagnosis {
  advisory: Advisory;
  verdicts: DiagnosedVerdict[];
}

function signalEvidence(subject: string, s: SignalStat, what: string): Evidence {
  const span =
    s.firstSeen !== undefined
      ? ` from ${s.firstSeen}${s.lastSeen !== undefined && s.lastSeen !== s.firstSeen ? ` to ${s.lastSeen}` : ""}`
      : "";
  const rate = s.ratePerHour !== undefined ? ` (${Math.round(s.ratePerHour)}/h)` : "";
  const firstLine = s.samples[0]?.split("\n")[0];
  const sample = firstLine !== undefined ? ` — e.g. "${firstLine}"` : "";
  return {
    kind: s.role === "lookalike" ? "lookalike" : "symptom",
    message: `${what}: ${s.count} × ${s.signatureId}${span}${rate}${sample}`,
    nodes: [subject],
    data: {
      signature: s.signatureId,
      role: s.role,
      count: s.count,
      ...(s.firstSeen !== undefined ? { firstSeen: s.firstSeen } : {}),
      ...(s.lastSeen !== undefined ? { lastSeen: s.lastSeen } : {}),
      ...(s.ratePerHour !== undefined ? { ratePerHour: Math.round(s.ratePerHour * 10) / 10 } : {}),
      samples: s.samples,
    },
  };
}

function symptomEvidence(subject: string, sym: SymptomSummary): Evidence[] {
  const out: Evidence[] = [];
  for (const s of sym.symptom) out.push(signalEvidence(subject, s, "signature seen"));
  for (const s of sym.corroborating)
    out.push(signalEvidence(subject, s, "partial signature seen (decides only with version evidence)"));
  for (const s of sym.context) out.push(signalEvidence(subject, s, "related lines"));
  for (const s of sym.lookalike)
    out.push(signalEvidence(subject, s, "lookalike seen (a different problem, not this one)"));
  return out;
}

const YEAR_FROM: Record<NonNullable<LogSourceResult["scan"]["yearFrom"]>, string> = {
  "start-time": "the pod's start time",
  "file-time": "the file's modification time",
  "current-year": "the current date",
};

/** Says where the year of the times shown came from, for logs whose stamps carry none (klog). */
function yearEvidence(subject: string, sym: SymptomSummary): Evidence[] {
  const timed = [...sym.symptom, ...sym.corroborating, ...sym.context, ...sym.lookalike].some(
    (s) => s.firstSeen !== undefined,
  );
  const from = [
    ...new Set(sym.sources.flatMap((l) => (l.scan.yearFrom !== undefined ? [l.scan.yearFrom] : []))),
  ];
  if (!timed || from.length === 0) return [];
  return [
    {
      kind: "note",
      message: `the log's timestamps carry no year (klog/syslog); the year was taken from ${from.map((f) => YEAR_FROM[f]).join(" and ")}`,
      nodes: [subject],
      data: { yearFrom: from },
    },
  ];
}

/** What was seen short of a decisive signature, for reasons that must not say "nothing was seen". */
function partialIds(sym: SymptomSummary): string[] {
  return [...sym.corroborating, ...sym.context, ...sym.lookalike].map((s) => s.signatureId);
}

function conditionEvidence(subject: string, results: ConditionResult[]): Evidence[] {
  return results.map((c) => ({
    kind: "condition" as const,
    message: `${c.id}: ${c.message}`,
    nodes: [subject],
    data: {
      condition: c.id,
      required: c.required,
      assumed: c.assumed,
      ...(c.holds !== undefined ? { holds: c.holds } : {}),
      ...(c.value !== undefined ? { value: c.value } : {}),
      ...(c.invalid === true ? { invalidValue: true } : {}),
    },
    ...(c.source !== undefined ? { source: c.source } : {}),
  }));
}

/**
 * The settings the conditions read (Felix settings, and any condition a report column shows); a
 * value shows only where the condition was decided on it.
 */
function settingFacts(advisory: Advisory, results: ConditionResult[]): SettingFact[] {
  const shown = new Set((advisory.presentation?.columns ?? []).map((c) => c.condition));
  return results.flatMap((c) => {
    const cond = advisory.conditions.find((x) => x.id === c.id);
    if (cond === undefined || (cond.kind !== "felix-setting" && !shown.has(cond.id))) return [];
    return [
      {
        condition: c.id,
        field:
          cond.kind === "felix-setting" ? cond.field : cond.kind === "felix-feature" ? cond.feature : cond.id,
        ...(c.holds !== undefined && c.value !== undefined ? { value: String(c.value) } : {}),
        ...(c.source !== undefined ? { source: c.source } : {}),
      },
    ];
  });
}

function nodeFactEvidence(subject: NodeSubject): Evidence[] {
  const f = subject.facts;
  if (!f) return [];
  return [
    {
      kind: "node",
      message: `${f.osImage ?? "OS unknown"}, kernel ${f.kernelVersion ?? "unknown"}, kubelet ${f.kubeletVersion ?? "unknown"}, ${f.distribution.value} (${f.distribution.from.ref})`,
      nodes: [subject.name],
      data: {
        distribution: f.distribution.value,
        ...(f.osImage !== undefined ? { osImage: f.osImage } : {}),
        ...(f.kernelVersion !== undefined ? { kernelVersion: f.kernelVersion } : {}),
        ...(f.kubeletVersion !== undefined ? { kubeletVersion: f.kubeletVersion } : {}),
      },
    },
  ];
}

/**
 * Why the symptom decides: each seen symptom signature in the advisory's own words (its `seen`
 * text, {count} replaced), or, when none has words of its own, the total in generic ones.
 */
function seenReason(advisory: Advisory, sym: SymptomSummary): string {
  const textOf = (id: string): string | undefined => advisory.signatures.find((x) => x.id === id)?.seen;
  if (!sym.symptom.some((s) => textOf(s.signatureId) !== undefined))
    return `the log signature was seen ${totalCount(sym.symptom)} time(s)`;
  return sym.symptom
    .map((s) =>
      (textOf(s.signatureId) ?? `the log signature ${s.signatureId} was seen {count} time(s)`).replaceAll(
        "{count}",
        String(s.count),
      ),
    )
    .join("; ");
}

const PLUGIN_NAMES: Readonly<Record<CniPlugin, string>> = {
  calico: "Calico",
  canal: "Canal",
  flannel: "flannel",
};

/** "Calico or Canal", from the plugins an advisory's component runs under. */
function pluginNames(plugins: readonly CniPlugin[]): string {
  const names = plugins.map((p) => PLUGIN_NAMES[p]);
  return names.length > 1
    ? `${names.slice(0, -1).join(", ")} or ${names[names.length - 1] ?? ""}`
    : names.join("");
}

/** The advisory's plugins whose pods run `container` (all of them when none is known to). */
function runningIt(plugins: readonly CniPlugin[], container: string): readonly CniPlugin[] {
  const running = plugins.filter((p) => pluginRuns(p, container));
  return running.length > 0 ? running : plugins;
}

/**
 * What the install could have been for the advisory to apply: its plugins that run the container
 * and are the install's own product (Canal for a Calico install), else all that run it.
 */
function alternatives(
  plugins: readonly CniPlugin[],
  plugin: CniPlugin,
  container: string,
): readonly CniPlugin[] {
  const running = runningIt(plugins, container);
  const kin = running.filter((p) => samePluginFamily(p, plugin));
  return kin.length > 0 ? kin : running;
}

function comboReasons(combo: CombinationMatch): string[] {
  return [combo.reason, ...(combo.doubt !== undefined ? [`note: ${combo.doubt}`] : [])];
}

/** The symptom decides alone; else an "affected" combination stands in for it. */
function seenFrom(
  advisory: Advisory,
  sym: SymptomSummary,
  combo: CombinationMatch | undefined,
): { seen: boolean; reason?: string } {
  if (totalCount(sym.symptom) > 0) return { seen: true, reason: seenReason(advisory, sym) };
  if (combo?.status === "affected") return { seen: true, reason: combo.reason };
  return { seen: false };
}

/** Adds the node's CPU/memory evidence and, when something stands out, a reason that says so. */
function addResourceEvidence(
  advisory: Advisory,
  verdict: DiagnosedVerdict,
  subject: NodeSubject,
  trends: PodTrend[],
): DiagnosedVerdict {
  const pod = subject.pod ? { namespace: subject.pod.namespace, name: subject.pod.name } : undefined;
  const mine = trendsForNode(trends, subject.name, pod);
  if (mine.length === 0) return verdict;
  const r = nodeResourceEvidence(subject.name, mine, trendSettings(advisory.symptoms));
  const reason = calloutReason(verdict.status, r.callouts);
  return {
    ...verdict,
    reasons: reason !== undefined ? [...verdict.reasons, reason] : verdict.reasons,
    evidence: [...verdict.evidence, ...r.evidence],
    ...(verdict.facts !== undefined && reason !== undefined
      ? { facts: { ...verdict.facts, resourceCallouts: [...verdict.facts.resourceCallouts, reason] } }
      : {}),
  };
}

/** Everything a node's conditions read: its facts, install, version, objects, agent data and logs. */
function conditionContext(
  snapshot: Snapshot,
  subject: NodeSubject,
  sym: SymptomSummary,
  calicoVersion: string | undefined,
): ConditionContext {
  const signals: Record<string, number> = {};
  for (const s of [...sym.symptom, ...sym.corroborating, ...sym.context, ...sym.lookalike])
    signals[s.signatureId] = (signals[s.signatureId] ?? 0) + s.count;
  const agent = snapshot.agentFacts?.find((a) => a.node === subject.name);
  return {
    node: subject.name,
    nodeFacts: subject.facts,
    container: subject.container,
    felixConfigurations: snapshot.felixConfigurations,
    ...(subject.install !== undefined ? { plugin: subject.install.plugin } : {}),
    ...(calicoVersion !== undefined ? { calicoVersion } : {}),
    ...(snapshot.objects !== undefined ? { objects: snapshot.objects } : {}),
    ...(agent !== undefined ? { agent } : {}),
    mode: snapshot.target.kind,
    signals,
  };
}

function diagnoseNode(advisory: Advisory, snapshot: Snapshot, subject: NodeSubject): DiagnosedVerdict {
  const container = advisory.component.container;
  const ecosystem = componentEcosystem(advisory.component);
  const sym = summarizeSymptoms(advisory.id, subject.logs);
  const pkg = advisory.affected.find((a) => a.ecosystem === ecosystem);
  const evidence: Evidence[] = [];
  evidence.push(...nodeFactEvidence(subject));
  if (!subject.pod && !subject.install) {
    const gap = snapshot.gaps.find((g) => g.check === "pods" || g.check === "daemonsets");
    const status: Status = gap ? "unknown" : "not-affected";
    const reason = gap
      ? `Calico pods could not be read: ${gap.reason}`
      : `no ${pluginNames(runningIt(advisory.component.plugins, container))} ${container} pod runs on this node`;
    return {
      subject: subject.name,
      kind: "node",
      status,
      reasons: [reason],
      evidence,
      dependsOn: gap ? [gap.check] : [],
    };
  }
  if (subject.install !== undefined && !advisory.component.plugins.includes(subject.install.plugin)) {
    return {
      subject: subject.name,
      kind: "node",
      status: "not-affected",
      reasons: [
        `${subject.install.namespace}/${subject.install.name} runs ${pluginNames([subject.install.plugin])}, not ${pluginNames(alternatives(advisory.component.plugins, subject.install.plugin, container))}: no ${container} container to be affected`,
      ],
      evidence,
      dependsOn: [],
    };
  }
  const version = resolveNodeVersion({
    subject,
    snapshot,
    pkg,
    container,
    ecosystem,
    fingerprintVersions: sym.fingerprintVersions,
  });
  evidence.push({
    kind: "version",
    message: version.reason,
    nodes: [subject.name],
    ...(version.source !== undefined ? { source: version.source } : {}),
    ...(version.text !== undefined ? { data: { [`${ecosystem}Version`]: version.text } } : {}),
  });
  evidence.push(...version.notes);
  const conditions = evaluateConditions(
    advisory.conditions,
    conditionContext(snapshot, subject, sym, version.text),
  );
  evidence.push(...conditionEvidence(subject.name, conditions));
  evidence.push(...symptomEvidence(subject.name, sym));
  evidence.push(...yearEvidence(subject.name, sym));
  const verdictFacts: VerdictFacts = {
    logsRead: sym.logsRead,
    settings: settingFacts(advisory, conditions),
    resourceCallouts: [],
  };
  if (advisory.verdicts !== undefined) {
    const d = applyVerdictRules(advisory.verdicts, conditions);
    return {
      subject: subject.name,
      kind: "node",
      status: d.status,
      reasons: d.reasons,
      evidence,
      dependsOn: d.dependsOn,
      facts: verdictFacts,
    };
  }
  const facts = versionFacts(advisory, version, sym.fingerprintVersions);
  const combo = matchCombination(advisory, sym, facts);
  const symptoms = totalCount(sym.symptom);
  if (combo?.status === "not-affected" && symptoms === 0) {
    return {
      subject: subject.name,
      kind: "node",
      status: "not-affected",
      reasons: comboReasons(combo),
      evidence,
      dependsOn: [],
      facts: verdictFacts,
    };
  }
  const seen = seenFrom(advisory, sym, combo);
  const decision = decideStatus({
    version: {
      verdict: version.verdict,
      reason: version.reason,
      ...(version.text !== undefined ? { text: version.text } : {}),
    },
    conditions,
    symptomSeen: seen.seen,
    ...(seen.reason !== undefined ? { symptomReason: seen.reason } : {}),
  });
  if (symptoms === 0 && combo?.status === "affected") decision.reasons.push(...comboReasons(combo).slice(1));
  const dependsOn = [...decision.dependsOn];
  if (!sym.logsRead && (decision.status === "at-risk" || decision.status === "unknown")) {
    decision.reasons.push(
      `${container} logs for this node were not available, so the symptom could not be checked`,
    );
    dependsOn.push("logs");
  }
  return {
    subject: subject.name,
    kind: "node",
    status: decision.status,
    reasons: decision.reasons,
    evidence,
    dependsOn,
    facts: verdictFacts,
  };
}

function logName(source: LogSourceResult): string {
  return source.source.kind === "file"
    ? source.source.path
    : `${source.source.namespace}/${source.source.pod}/${source.source.container}`;
}

/**
 * The subjects of one log: itself, or each pod/node a multi-pod capture names (kubectl --prefix,
 * stern, shipper fields), so a healthy pod next to an affected one is judged on its own lines.
 * Lines naming no subject are a subject of their own only when they matched something.
 */
interface LogSubject {
  name: string;
  source: LogSourceResult;
  /** The kind of subject the capture names (a node when it names one); absent for a whole log. */
  kind?: "node" | "pod";
  /** The container the capture says wrote these lines. */
  container?: string;
}

function logSubjects(source: LogSourceResult): LogSubject[] {
  const base = logName(source);
  const parts = (source.captures ?? []).filter(
    (c) => c.subject.pod !== undefined || c.subject.node !== undefined || c.scan.signals.length > 0,
  );
  if (parts.length === 0) return [{ name: base, source }];
  return parts.map(({ subject, scan }) => {
    const { pod, node } = subject;
    const name =
      pod !== undefined && node !== undefined ? `${node}/${pod}` : (node ?? pod ?? subject.container ?? base);
    const kind = node !== undefined ? "node" : pod !== undefined ? "pod" : undefined;
    return {
      name,
      source: { ...source, scan },
      ...(kind !== undefined ? { kind } : {}),
      ...(subject.container !== undefined ? { container: subject.container } : {}),
    };
  });
}

function diagnoseLogSource(
  advisory: Advisory,
  source: LogSourceResult,
  name = logName(source),
  container?: string,
): DiagnosedVerdict {
  const sym = summarizeSymptoms(advisory.id, [source]);
  const evidence = [...symptomEvidence(name, sym), ...yearEvidence(name, sym)];
  const facts = classifyVersions(advisory, sym.fingerprintVersions);
  const { product, logger } = ecosystemWords(componentEcosystem(advisory.component));
  if (sym.fingerprintVersions.length > 0) {
    const verdict =
      facts.evidence === "affected"
        ? "all affected"
        : facts.evidence === "excluded"
          ? "none of them affected"
          : `of which ${facts.affected.join(", ")} affected`;
    evidence.push({
      kind: "fingerprint",
      message: `${logger} log line numbers (${sym.fingerprintLines.join(", ")}) match ${product} ${sym.fingerprintVersions.join(", ")} (${verdict})`,
      nodes: [name],
      data: { versions: sym.fingerprintVersions, versionEvidence: facts.evidence },
    });
  }
  const verdict = (status: Status, reasons: string[], dependsOn: string[] = []): DiagnosedVerdict => ({
    subject: name,
    kind: "log",
    status,
    reasons,
    evidence,
    dependsOn,
    facts: { logsRead: source.status !== "unreadable", settings: [], resourceCallouts: [] },
  });
  if (source.status === "unreadable")
    return verdict(
      "unknown",
      [`the log could not be read: ${source.problem ?? "unreadable"}`],
      ["calico-version"],
    );
  const symptoms = totalCount(sym.symptom);
  if (symptoms > 0) {
    const reasons = [seenReason(advisory, sym)];
    if (facts.evidence === "excluded")
      reasons.push(
        `note: the ${logger} line numbers point to ${product} ${facts.candidates.join(", ")}, not an affected version, yet the signature is present — a patched or custom build?`,
      );
    return verdict("affected", reasons);
  }
  const combo = matchCombination(advisory, sym, facts);
  if (combo) {
    return verdict(combo.status, [
      combo.reason,
      ...(combo.doubt !== undefined ? [`note: ${combo.doubt}`] : []),
    ]);
  }
  const partial = partialIds(sym);
  if (facts.evidence === "excluded") {
    return verdict("not-affected", [
      `the ${logger} line numbers in this log point to ${product} ${facts.candidates.join(", ")}, none of which is affected`,
      ...(partial.length > 0
        ? [`what was seen (${partial.join(", ")}) therefore comes from a release without this problem`]
        : []),
    ]);
  }
  const span =
    source.scan.firstTimestamp !== undefined
      ? ` (${source.scan.firstTimestamp} to ${source.scan.lastTimestamp ?? "?"})`
      : "";
  // A capture that names another container cannot show this advisory's signature: say so rather
  // than that it was not seen.
  const otherContainer =
    container !== undefined && container !== advisory.component.container && partial.length === 0;
  const seenLine = otherContainer
    ? `these ${source.scan.lines} lines${span} are from the ${container} container; the signature is logged by ${advisory.component.container}, whose log the capture does not hold`
    : partial.length > 0
      ? `no decisive signature was seen in ${source.scan.lines} lines${span}; only ${partial.join(", ")}, which do not decide this problem without version evidence`
      : `the signature was not seen in ${source.scan.lines} lines${span}`;
  return verdict(
    "unknown",
    [
      seenLine,
      facts.evidence === "unknown"
        ? `a log alone cannot show whether the ${product} version and settings are exposed; scan the cluster or a bundle for that`
        : `the ${logger} line numbers point to ${product} ${facts.candidates.join(", ")}, but a log alone cannot show whether the settings and kernel are exposed; scan the cluster or a bundle for that`,
    ],
    ["calico-version"],
  );
}

export function diagnose(snapshot: Snapshot, advisory: Advisory): Diagnosis {
  if (snapshot.target.kind === "logs") {
    const verdicts = snapshot.logs.flatMap((l) =>
      logSubjects(l).map((part) => {
        const verdict = diagnoseLogSource(advisory, part.source, part.name, part.container);
        // A pod or node named by the capture is a subject like a scanned node: findings list it in nodes[].
        return part.kind !== undefined ? { ...verdict, kind: part.kind } : verdict;
      }),
    );
    return { advisory, verdicts };
  }
  const subjects = nodeSubjects(snapshot, advisory.component.container);
  const trends = analyzeResources(
    snapshot.resources ?? [],
    advisory.component.container,
    trendSettings(advisory.symptoms),
  );
  return {
    advisory,
    verdicts: subjects.map((s) =>
      addResourceEvidence(advisory, diagnoseNode(advisory, snapshot, s), s, trends),
    ),
  };
}
