// Every fact says where it was read. Provenance is what turns a status into an evidence chain an
// operator can check by hand ("kube-system/canal, container calico-node, env FELIX_LOGSEVERITYSCREEN").

export type SourceKind =
  | "pod-spec"
  | "daemonset"
  | "node"
  | "felix-configuration"
  | "cluster-information"
  | "rke-cluster-yml"
  | "log"
  | "felix-default"
  | "kdm"
  | "chart"
  | "file"
  /** A command-line flag the operator gave (ref: the flag and its value). */
  | "flag"
  /** A Prometheus range query (ref: the server and the query). */
  | "prometheus";

export interface Provenance {
  source: SourceKind;
  /** Human-readable pointer: object, field or file path (and line where known). */
  ref: string;
}

export interface Fact<T> {
  value: T;
  from: Provenance;
}

/** Something that could not be read. It becomes a `coverage[]` entry and can make a status `unknown`. */
export interface Gap {
  /** The check that could not be evaluated, e.g. "felix-configuration", "logs", "nodes". */
  check: string;
  /** Why, in one line: file missing, RBAC forbidden, parse error at a path. */
  reason: string;
  /** What it concerns when narrower than the whole target: a node name, a pod, a file. */
  subject?: string;
  /**
   * An optional extra that is simply absent (e.g. felixconfigurations.json not added to a bundle).
   * It only matters when a verdict depended on it; a broken or missing core file always matters.
   */
  optional?: boolean;
}
