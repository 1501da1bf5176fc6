// The shape of an advisory file (advisories/*.yaml), as validated by advisories/advisory.schema.json.
// Advisories are data: a new known issue is a file plus tests, never new engine code.

import type { CniPlugin, Distribution } from "./snapshot.js";
import type { SignatureRole } from "./logs.js";
import type { ReportColumn } from "./finding.js";

export type Severity = "critical" | "high" | "medium" | "low";

/** The ecosystems whose version a container's image tag carries. */
export type ComponentEcosystem = "calico" | "flannel";

/** OSV-style range over one ecosystem's version order. */
export interface VersionRange {
  introduced: string;
  /** First version that no longer has the problem. */
  fixed?: string;
  /** Last affected version, for lines that never got a fix. */
  lastAffected?: string;
}

/** Which versions of something carry the problem, in one ecosystem. */
export interface AffectedPackage {
  /**
   * calico: upstream calico-node release; flannel: upstream flannel release (flanneld, kube-flannel);
   * rke1-kubernetes: RKE1 k8s version names; rke2: RKE2 releases (package = chart); rke: RKE CLI
   * releases; rancher: Rancher releases.
   */
  ecosystem: ComponentEcosystem | "rke1-kubernetes" | "rke2" | "rke" | "rancher";
  package: string;
  ranges?: VersionRange[];
  /** Exact affected versions (for ecosystems without a usable order, and for readers). */
  versions?: string[];
  /**
   * Listed versions the sources do not settle (e.g. only development metadata shows them affected):
   * reported as affected, and marked unverified wherever they are named.
   */
  unverified?: string[];
  /** First fixed version per release line, e.g. { "1.30": "v1.30.4-rancher1-1" }. */
  fixedIn?: Record<string, string>;
  note?: string;
}

/** A Felix setting that must have a given value for the problem to occur. */
export interface FelixSettingCondition {
  id: string;
  kind: "felix-setting";
  /** FelixConfiguration spec field, e.g. "bpfEnabled"; the env var is FELIX_<FIELD UPPERCASE>. */
  field: string;
  /** The value under which the problem occurs. */
  equals: boolean;
  /** Felix's built-in default when nothing sets it. */
  default: boolean;
  description: string;
}

/**
 * How a condition counts: `required` conditions decide a status through the generic rules,
 * `risk-factor` ones are evidence only. Under an advisory's `verdicts` rules every condition is
 * evidence and the rules decide.
 */
export type ConditionEffect = "required" | "risk-factor";

/**
 * A fact of the Node object matched by pattern: its status.nodeInfo (kernelVersion, osImage),
 * spec.providerID, or one label. Absent `effect`: risk-factor (evidence, never a status alone).
 */
export interface NodeFactCondition {
  id: string;
  kind: "node-fact";
  fact: "kernelVersion" | "osImage" | "providerID" | "label";
  /** The label key, for fact `label`. */
  label?: string;
  pattern: string;
  effect: ConditionEffect;
  description: string;
}

/** The Kubernetes objects an object-field condition can read (never Secrets). */
export type ObjectResource = "configmaps" | "ippools" | "felixconfigurations";

/**
 * A field of named Kubernetes objects: holds when any selected object's field matches. A field
 * holding a JSON document (a ConfigMap key such as net-conf.json) is read further with `json`.
 */
export interface ObjectFieldCondition {
  id: string;
  kind: "object-field";
  resource: ObjectResource;
  /** Object names to read (ConfigMaps are only ever read by name). Absent: every object of the list. */
  names?: string[];
  /** Namespaces to look in (namespaced resources). */
  namespaces?: string[];
  /** Path into the object, e.g. ["data", "net-conf.json"] or ["spec", "vxlanMode"]. */
  path: string[];
  /** Path inside the JSON document the field holds, e.g. ["Backend", "Type"]. */
  json?: string[];
  /** Regex the value (as text) must match for the condition to hold. */
  pattern: string;
  /** Compare case-insensitively (flannel accepts "VXLAN" and "vxlan"). */
  ignoreCase?: boolean;
  /**
   * The value assumed, per plugin, when none of the named objects was read or exists (a Canal
   * install renders its flannel ConfigMap with vxlan; a Calico install has none). Reported as assumed.
   */
  assume?: { value: string; plugins: CniPlugin[] }[];
  effect: ConditionEffect;
  description: string;
}

/** What the node agent reads on its node; see src/agent/node-facts.ts for where each comes from. */
export type AgentFact = "nicDriver" | "udpInCsumErrorsRising" | "kernelLog";

/**
 * A fact only the node agent can read on the node. A bundle carries it in node-facts.json (what
 * the agent writes); a scan without it says the fact is not available in that mode.
 */
export interface AgentFactCondition {
  id: string;
  kind: "agent-fact";
  fact: AgentFact;
  /** Regex over the value (nicDriver) or over each kernel log line (kernelLog); unused for counters. */
  pattern?: string;
  effect: ConditionEffect;
  description: string;
}

/** Felix's built-in default of a feature-detect flag for a range of Calico versions. */
export interface FeatureDefault {
  introduced: string;
  fixed?: string;
  /** A fixed default in this range. */
  value?: boolean;
  /** Otherwise the default is true when the node's kernel is below / at most this version. */
  kernelBelow?: string;
  kernelAtMost?: string;
}

/**
 * A Felix feature-detection flag (e.g. a key of featureDetectOverride): set explicitly by env
 * FELIX_FEATUREDETECTOVERRIDE, FelixConfiguration node.<name> or default, or else Felix's default,
 * which depends on the Calico version and the kernel (`defaults`). Felix's own start-up log line,
 * when the advisory names signatures for it, says which value it used and wins over the rest.
 */
export interface FelixFeatureCondition {
  id: string;
  kind: "felix-feature";
  feature: string;
  equals: boolean;
  defaults: FeatureDefault[];
  /** Signatures of Felix's own report of the value it uses. */
  observed?: { true?: string[]; false?: string[] };
  effect: ConditionEffect;
  description: string;
}

/** Holds when every (allOf) or any (anyOf) of the named conditions holds; three-valued. */
export interface GroupCondition {
  id: string;
  kind: "all-of" | "any-of";
  of: string[];
  effect: ConditionEffect;
  description: string;
}

export type Condition =
  | FelixSettingCondition
  | NodeFactCondition
  | ObjectFieldCondition
  | AgentFactCondition
  | FelixFeatureCondition
  | GroupCondition;

/**
 * One status rule over condition results, for advisories whose exposure is a combination of
 * settings and node facts rather than a version range and a log line. Rules are tried in order;
 * the first whose tests all pass gives the status.
 */
export interface VerdictRule {
  id: string;
  /** Conditions that must hold. */
  holds?: string[];
  /** Conditions that must be known not to hold. */
  fails?: string[];
  /** Conditions that must be undecided (their data missing). */
  undecided?: string[];
  /** At least one of these must hold (corroboration). */
  anyHolds?: string[];
  status: "affected" | "at-risk" | "not-affected" | "unknown";
  /** The verdict's first reason. */
  reason: string;
  /**
   * Conditions that did not hold and would change the verdict (for at-risk: the corroborating
   * ones); each is listed with why (not seen, or not available in this mode), so the operator
   * knows what would settle it.
   */
  missing?: string[];
}

/** A log signature: literal prefilters first, then regexes over one assembled multi-line record. */
export interface Signature {
  id: string;
  role: SignatureRole;
  description: string;
  /** At least one must occur in the record (plain substring, checked before any regex). */
  prefilter: string[];
  /** Regex for the record's first line, when the signature is anchored on a header. */
  header?: string;
  /** Every regex must match somewhere in the record. */
  all?: string[];
  /** At least one must match somewhere in the record. */
  any?: string[];
  /** None may match anywhere in the record (how lookalikes are kept out). */
  none?: string[];
  /** For lookalikes: the upstream report it resembles. */
  reference?: string;
  /**
   * For symptoms: the verdict's reason when this signature was seen, {count} replaced by its
   * records (absent: "the log signature was seen {count} time(s)" for all symptoms together).
   */
  seen?: string;
}

/**
 * A source line that reveals the running version of the component: Felix's `file.go LINE:` or a
 * klog `file.go:LINE]` caller, with the component ecosystem's versions whose source logs it there.
 */
export interface Fingerprint {
  id: string;
  file: string;
  line: number;
  /** Substring of the message at that line. */
  message: string;
  versions: string[];
}

/**
 * What the version evidence for a subject says about the advisory's affected Calico versions: the
 * running image when known, else the Felix log line fingerprints.
 *  affected:   every candidate version is affected
 *  consistent: some candidates are affected and some are not (a fingerprint shared by a release line)
 *  excluded:   no candidate is affected
 *  unknown:    there is no version evidence
 */
export type VersionEvidence = "affected" | "consistent" | "excluded" | "unknown";

/** Signatures named directly or by role. */
export interface SignatureSelector {
  signatures?: string[];
  roles?: SignatureRole[];
}

/**
 * A rule combining what the logs show with the version evidence, for evidence that no single
 * signature decides (a record cut before its libbpf detail, a start-up record). The first rule
 * that applies gives the subject's status; without one the generic rules decide.
 */
export interface Combination {
  id: string;
  /** At least one selected signature must have been seen. */
  seen: SignatureSelector;
  /** No selected signature may have been seen. */
  notSeen?: SignatureSelector;
  /** The version evidence states under which the rule applies (absent: any). */
  version?: VersionEvidence[];
  status: "affected" | "not-affected";
  /**
   * The verdict's reason. Placeholders: {count} (records of the seen signatures), {signatures},
   * {versions} (candidate versions), {affectedVersions} (those of them that are affected).
   */
  reason: string;
  /** What remains uncertain and what would settle it; reported as a note. Same placeholders. */
  doubt?: string;
}

/**
 * A warning for a planned Calico upgrade: moving from a version where the felix-feature
 * condition's default keeps the cluster safe to one where it does not.
 */
export interface UpgradeWarning {
  /** The felix-feature condition whose version-dependent default decides. */
  condition: string;
  /** Only when the cluster uses this (object-field / group condition id); absent: always. */
  when?: string;
  message: string;
}

export interface ResourceSymptoms {
  /** calico-node CPU divided by the median of its peers above which CPU counts as a symptom. */
  cpuPeerRatio: number;
  /** Working-set growth (MiB/hour, lower confidence bound) above which memory counts as a symptom. */
  memorySlopeMiBPerHour: number;
  /** Signature matches per hour above which the log rate itself is alarming. */
  signatureRatePerHour: number;
  /** Two-sided confidence of the memory slope interval whose lower bound is compared (default 0.95). */
  slopeConfidence?: number;
  /** calico-node CPU divided by its own earlier baseline above which CPU counts (default cpuPeerRatio). */
  cpuBaselineRatio?: number;
  /** CPU (cores) below which no ratio counts, so idle pods are never outliers (default 0.1). */
  cpuMinCores?: number;
  /** Samples a series needs before a slope or CPU level is computed from it (default 6). */
  minSamples?: number;
  /** Smallest working-set jump (MiB) between neighbouring samples read as a restart or level shift (default 16). */
  memoryJumpMiB?: number;
}

export interface Remediation {
  id: string;
  title: string;
  kind: "upgrade" | "config" | "mitigation" | "monitoring";
  /** Where it applies; empty means everywhere. */
  distributions: Distribution[];
  plugins: CniPlugin[];
  /** Operator-facing summary in a sentence or two. */
  summary: string;
  /** Ordered steps, each a short imperative sentence (commands in backticks). */
  steps: string[];
  /** What it costs or risks. */
  tradeoffs?: string;
  durable: boolean;
}

export interface Reference {
  type: "report" | "fix" | "release-notes" | "docs" | "discussion";
  url: string;
  note?: string;
}

/** The name and words of one generated Prometheus alert; the engine appends the runbook line. */
export interface AlertText {
  /** Prometheus alert name (CamelCase). */
  name: string;
  /** Summary annotation; {id} is replaced by the advisory id. Absent: a generic summary. */
  summary?: string;
  description: string;
}

/** What the report, the alert rules and the node agent show for this advisory. */
export interface Presentation {
  /**
   * Per-node table columns after the Calico version, in order (absent: none): each shows the value
   * and source of one felix-setting condition, titled "TITLE (SOURCE)" by the writers.
   */
  columns?: ReportColumn[];
  /**
   * The alert on any symptom record, and the one on a sustained symptom rate (absent: generic);
   * `resources: false` leaves out the component's CPU and memory alerts and their recording rules
   * (for a problem whose cost is not CPU or memory).
   */
  alerts?: { signatureSeen?: AlertText; signatureRate?: AlertText; resources?: boolean };
  /** The agent's Node condition type (absent: derived from the id). */
  conditionType?: string;
  /**
   * Whether the report draws per-node resource charts judged by this advisory's `symptoms`
   * thresholds (default true; every advisory has thresholds).
   */
  charts?: boolean;
}

export interface Advisory {
  schemaVersion: 1;
  id: string;
  aliases: string[];
  related: string[];
  title: string;
  summary: string;
  details: string;
  severity: Severity;
  published: string;
  modified: string;
  /**
   * The container whose logs the advisory reads and whose image tag gives the version its
   * `ecosystem` ranges apply to (default calico), in the pods of the plugins' DaemonSets.
   */
  component: { container: string; plugins: CniPlugin[]; ecosystem?: ComponentEcosystem };
  affected: AffectedPackage[];
  conditions: Condition[];
  signatures: Signature[];
  fingerprints: Fingerprint[];
  /** Evaluated in order before the generic status rules. */
  combinations?: Combination[];
  /**
   * Status rules over the conditions, replacing the generic version-and-signature rules (for
   * advisories detected from settings and node facts, with no error log of their own).
   */
  verdicts?: VerdictRule[];
  /** Upgrade warnings `check` gives from this advisory's condition data (felix-feature defaults). */
  upgradeWarnings?: UpgradeWarning[];
  symptoms: ResourceSymptoms;
  remediations: Remediation[];
  references: Reference[];
  presentation?: Presentation;
}
