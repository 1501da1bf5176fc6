// Every flag is defined once here: name, value type and range, env var, default(s), allowed
// values and usage. The parser (parse-flags.ts) and the typed accessor (flag-access.ts) read it;
// help text, command usage lines and the README's flag reference are generated from it
// (scripts/docs/cli-reference.ts). A default written anywhere else is a bug (flag-access.test.ts).

import {
  address,
  bool,
  duration,
  int,
  interval,
  list,
  matching,
  number,
  oneOf,
  promWindow,
  RANGES,
  size,
  text,
  when,
  type ValueType,
} from "./flag-values.js";

export interface FlagSpec {
  name: string;
  short?: string;
  /** The value's type, with its range: what the accessor parses the text into. */
  value: ValueType<unknown>;
  /** Environment variable that supplies a default. */
  env?: string;
  /** Commands that read `env`; absent means all of `commands`. */
  envCommands?: readonly string[];
  /** Values the parser accepts. */
  values?: readonly string[];
  /** Narrower lists for some commands (refused by the accessor with the command's own message). */
  valuesFor?: Readonly<Record<string, readonly string[]>>;
  default?: string;
  /** Per-command defaults; they win over `default`. */
  defaults?: Readonly<Record<string, string>>;
  multiple?: boolean;
  /** Old spellings still accepted on some commands, with a one-line deprecation note on stderr. */
  deprecated?: readonly { name: string; short?: string; commands: readonly string[] }[];
  usage: string;
  /** Commands that accept it; empty means all. */
  commands: readonly string[];
}

export const OUTPUT_FORMATS = ["table", "json", "yaml", "markdown", "html"] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];
const NOT_HTML = OUTPUT_FORMATS.filter((f) => f !== "html");

/** Commands that read a live cluster with the bounded live collector. */
const LIVE = ["scan", "collect", "plan", "apply"] as const;

export const FLAGS = [
  {
    name: "output",
    short: "o",
    value: oneOf(OUTPUT_FORMATS),
    env: "CNIDOCTOR_OUTPUT",
    values: OUTPUT_FORMATS,
    valuesFor: { plan: NOT_HTML, check: NOT_HTML },
    default: "table",
    usage: "Report format.",
    commands: ["scan", "logs", "advisories", "plan", "check"],
  },
  {
    name: "bundle",
    value: text(),
    usage:
      "Scan a `kubectl cluster-info dump --all-namespaces --output-directory` directory instead of a live cluster.",
    commands: ["scan", "plan", "apply"],
  },
  {
    name: "advisories",
    value: text(),
    env: "CNIDOCTOR_ADVISORIES",
    usage: "Directory of advisory files to use instead of the ones shipped with cnidoctor.",
    commands: ["scan", "logs", "advisories", "agent", "plan", "apply", "rollback", "alerts", "check"],
  },
  {
    name: "color",
    value: bool(),
    usage: "Force colour in table output (default: only when stdout is a terminal and NO_COLOR is unset).",
    commands: ["scan", "logs"],
  },
  { name: "no-color", value: bool(), usage: "Never use colour.", commands: ["scan", "logs"] },
  {
    name: "sample",
    value: bool(),
    usage:
      "Stop reading once the evidence is conclusive (20 symptom records spanning 10 minutes); says how much was read.",
    commands: ["logs"],
  },
  // Live cluster access and bounds (scan without --bundle, collect, plan, apply).
  {
    name: "kubeconfig",
    value: text(),
    usage: "Kubeconfig file (default: $KUBECONFIG, ~/.kube/config, else in-cluster service account).",
    commands: ["scan", "collect", "plan", "apply", "rollback"],
  },
  {
    name: "context",
    value: text(),
    usage: "Kubeconfig context to use.",
    commands: ["scan", "collect", "plan", "apply", "rollback"],
  },
  // A fleet: several contexts of the merged kubeconfig, scanned (or collected, or planned) as one.
  {
    name: "all-contexts",
    value: bool(),
    usage:
      "Every context of the merged kubeconfig (--kubeconfig, else each file of $KUBECONFIG, the first file winning per name), as a fleet: one report of all of them.",
    commands: ["scan", "collect", "plan", "apply"],
  },
  {
    name: "contexts",
    value: list(),
    usage: "Comma-separated contexts of the merged kubeconfig to read as a fleet (a,b,c).",
    commands: ["scan", "collect", "plan", "apply"],
  },
  {
    name: "context-pattern",
    value: text(),
    usage: "Contexts whose name matches this glob (* any run, ? one character) are read as a fleet.",
    commands: ["scan", "collect", "plan", "apply"],
  },
  {
    name: "clusters-concurrency",
    value: int(RANGES.clustersConcurrency),
    default: "4",
    usage:
      "Fleet: clusters read at the same time, each with its own --request-timeout, --timeout, --qps and --burst.",
    commands: ["scan", "collect", "plan"],
  },
  {
    name: "nodes",
    value: text(),
    usage: "Label selector on nodes: scan only the calico-node pods of those nodes.",
    commands: ["scan", "collect", "plan", "apply"],
  },
  // The window: one meaning everywhere. A cluster's window ends now; a log file's at its last
  // timestamp (known once read, so logs.ts resolves durations while reading).
  {
    name: "since",
    value: when({ cluster: RANGES.since, files: RANGES.logWindow, fileCommands: ["logs"] }),
    defaults: { scan: "1h", collect: "1h", plan: "1h", apply: "1h" },
    usage:
      "Start of the window: an RFC 3339 time (2024-08-09T08:00:00Z) or a duration back from its end (2h, 30m) — now for a cluster (how much calico-node log to read per pod), the log's last timestamp for files.",
    commands: ["logs", ...LIVE],
  },
  {
    name: "until",
    value: when({ cluster: RANGES.logWindow, files: RANGES.logWindow, fileCommands: ["logs"] }),
    usage:
      "Count only log lines at or before this time: RFC 3339 or a duration before the log's last timestamp.",
    commands: ["logs"],
  },
  {
    name: "log-bytes",
    value: size(RANGES.logBytes),
    default: "16Mi",
    usage: "Cap on log bytes read per pod and container (e.g. 16Mi, 1Gi, 500000).",
    commands: ["scan", "collect", "plan", "apply"],
  },
  {
    name: "concurrency",
    value: int(RANGES.concurrency),
    default: "16",
    usage: "Pods or nodes read at the same time.",
    commands: ["scan", "collect", "plan", "apply"],
  },
  {
    name: "qps",
    value: number(RANGES.qps),
    default: "100",
    usage: "Client-side rate limit on API requests per second.",
    commands: ["scan", "collect", "plan", "apply"],
  },
  {
    name: "burst",
    value: int(RANGES.burst),
    default: "200",
    usage: "Requests allowed at once above --qps.",
    commands: ["scan", "collect", "plan", "apply"],
  },
  {
    name: "request-timeout",
    value: duration(RANGES.requestTimeout),
    default: "30s",
    usage: "Timeout of each API request (and of a stalled log stream); failures are retried with backoff.",
    commands: ["scan", "collect", "plan", "apply"],
  },
  {
    name: "timeout",
    value: duration(RANGES.timeout),
    default: "10m",
    usage:
      "Overall deadline for reading the cluster (1s to 7d); whatever is not read by then is reported as a coverage gap.",
    commands: ["scan", "collect", "plan", "apply"],
  },
  {
    name: "resource-sample",
    value: duration(RANGES.sample),
    default: "0",
    deprecated: [{ name: "sample", commands: ["scan", "plan", "apply"] }],
    usage:
      "Seconds over which to sample calico-node CPU and memory several times (0: two samples, around the log reading).",
    commands: ["scan", "plan", "apply"],
  },
  {
    name: "output-dir",
    value: text(),
    defaults: { plan: ".", apply: "." },
    deprecated: [{ name: "output", short: "o", commands: ["collect"] }],
    usage:
      "Where files are written. collect: the bundle directory (required; must not exist or be empty; --force replaces an earlier cnidoctor bundle, never other files). apply: generated files (HelmChartConfig, CronJob manifests, alert rules).",
    commands: ["collect", "plan", "apply"],
  },
  {
    name: "force",
    value: bool(),
    usage:
      "collect: replace an earlier bundle in --output-dir. rollback: restore even over changes made after apply (they are shown first).",
    commands: ["collect", "rollback"],
  },
  // The node agent.
  {
    name: "node-name",
    value: text(),
    env: "NODE_NAME",
    usage: "The node this agent watches (the DaemonSet sets NODE_NAME from the downward API).",
    commands: ["agent"],
  },
  {
    name: "log-root",
    value: list(),
    default: "/var/log/pods,/var/log/containers,/var/log/calico",
    usage: "Comma-separated directories holding calico-node logs.",
    commands: ["agent"],
  },
  {
    name: "host-root",
    value: text(),
    usage:
      "Where the host's / is visible to the agent (e.g. /host with the host's /proc, /sys and /dev/kmsg mounted there): the agent then reads node facts (default-route NIC driver, UDP InCsumErrors, kernel log) for advisories that need them. Absent: no node facts.",
    commands: ["agent"],
  },
  {
    name: "facts-interval",
    value: interval(),
    default: "60s",
    usage:
      "How often the agent reads the node facts with --host-root (and updates their cnidoctor_node_* series).",
    commands: ["agent"],
  },
  {
    name: "state-dir",
    value: text(),
    env: "CNIDOCTOR_STATE_DIR",
    envCommands: ["apply", "rollback"],
    defaults: { agent: "/var/lib/cnidoctor-agent" },
    usage:
      "Writable directory for state that must outlive the process. agent: the checkpoint (file offsets, last symptom time); a hostPath survives pod replacement. apply, rollback: backups and audit log in DIR/backups/<ID>/ (default $XDG_STATE_HOME/cnidoctor, else ~/.local/state/cnidoctor).",
    commands: ["agent", "apply", "rollback"],
  },
  {
    name: "listen",
    value: address(),
    default: ":9808",
    usage:
      "Address of the /metrics and /healthz endpoint (HOST:PORT, :PORT for all interfaces, port 0 picks one).",
    commands: ["agent"],
  },
  {
    name: "clear-after",
    value: interval(),
    default: "30m",
    usage: "Set the Node condition back to False after the symptom has been absent this long.",
    commands: ["agent"],
  },
  {
    name: "event-interval",
    value: interval(),
    default: "10m",
    usage: "At most one Event write per advisory per interval while the symptom goes on.",
    commands: ["agent"],
  },
  {
    name: "poll-interval",
    value: interval(),
    default: "1s",
    usage: "How often the log files are read.",
    commands: ["agent"],
  },
  {
    name: "first-write-jitter",
    value: interval(),
    default: "60s",
    usage: "The first Node status write waits a random part of this, so a fleet-wide rollout is spread out.",
    commands: ["agent"],
  },
  {
    name: "metrics-only",
    value: bool(),
    usage: "Only export metrics: no Node condition, no Events, no cluster access needed.",
    commands: ["agent"],
  },
  {
    name: "prometheus",
    value: text(),
    env: "CNIDOCTOR_PROMETHEUS",
    usage:
      "Prometheus base URL to read calico-node CPU, memory, restarts and OOM kills from over --window (with a bundle or a live scan), and the node agent's node facts (its cnidoctor_node_* series) when an advisory needs them.",
    commands: ["scan"],
  },
  {
    name: "prometheus-token-file",
    value: text(),
    usage: "File holding a bearer token for --prometheus (a token is never taken on the command line).",
    commands: ["scan"],
  },
  {
    name: "prometheus-ca-file",
    value: text(),
    usage: "PEM CA bundle to trust for an https --prometheus.",
    commands: ["scan"],
  },
  {
    name: "window",
    value: promWindow(),
    default: "24h",
    usage: "How far back --prometheus range queries reach (e.g. 6h, 24h, 7d).",
    commands: ["scan"],
  },
  // Remediation: plan, apply, rollback, alerts.
  {
    name: "advisory",
    value: text(),
    usage:
      "The advisory to plan, apply or write alert rules for (plan: default every advisory that found something; apply needs exactly one; alerts: default every loaded advisory).",
    commands: ["plan", "apply", "alerts"],
  },
  {
    name: "rke-config",
    value: text(),
    usage:
      "An RKE cluster.yml (or Rancher's cluster spec) to plan the system_images pin and version upgrade for; `-` reads it from stdin (plan, check; apply needs the file itself).",
    commands: ["plan", "apply", "check"],
  },
  {
    name: "yes",
    short: "y",
    value: bool(),
    usage: "Make the changes without asking.",
    commands: ["apply", "rollback"],
  },
  {
    name: "only",
    value: list(),
    usage: "Comma-separated step IDs to apply instead of the plan's default steps (see `cnidoctor plan`).",
    commands: ["apply"],
  },
  {
    name: "max-unavailable",
    value: int(RANGES.maxUnavailable),
    default: "1",
    usage: "Rolling restart: calico-node pods restarted per batch.",
    commands: ["plan", "apply"],
  },
  {
    name: "batch-timeout",
    value: duration(),
    default: "300",
    usage: "Rolling restart: seconds (or 5m) each batch may take to be Ready before the restart stops.",
    commands: ["plan", "apply"],
  },
  {
    name: "restart-wait",
    value: duration(RANGES.restartWait),
    default: "2m",
    usage:
      "Post-check: how long apply waits for calico-node to restart after a change Felix applies only on restart (xdpEnabled); at most --timeout.",
    commands: ["apply"],
  },
  {
    name: "post-check-window",
    value: duration(RANGES.postCheckWindow),
    default: "30s",
    usage: "Post-check: how long calico-node logs after its restart before that log (and only it) is judged.",
    commands: ["apply"],
  },
  {
    name: "only-symptomatic",
    value: bool(),
    usage: "Rolling restart: restart only pods whose calico-node log shows the signature.",
    commands: ["plan", "apply"],
  },
  {
    name: "lease-ttl",
    value: int(RANGES.leaseTtl),
    default: "900",
    usage: "Rolling restart: seconds the coordination Lease is held without renewal.",
    commands: ["plan", "apply"],
  },
  {
    name: "memory-limit",
    value: matching(/^[1-9][0-9]*(Mi|Gi)$/, "512Mi or 1Gi"),
    default: "1Gi",
    usage: "Memory limit the limit-memory step sets on calico-node (e.g. 768Mi, 1Gi).",
    commands: ["plan", "apply"],
  },
  {
    name: "image",
    value: text(),
    usage:
      "Image the scheduled-restart CronJob runs; its entrypoint must be the cnidoctor CLI (default: this version's image, ghcr.io/cnidoctor/cnidoctor:<version>; a private registry's copy when air-gapped).",
    commands: ["plan", "apply"],
  },
  {
    name: "schedule",
    value: text(),
    usage: "Cron schedule of the scheduled-restart CronJob (default 17 */6 * * *).",
    commands: ["plan", "apply"],
  },
  {
    name: "daemonset",
    value: text(),
    usage: "NAMESPACE/NAME: restart only this DaemonSet, reading nothing else (the CronJob's mode).",
    commands: ["apply"],
  },
  {
    name: "format",
    value: oneOf(["rules", "prometheusrule"]),
    values: ["rules", "prometheusrule"],
    default: "rules",
    usage: "alerts: a plain Prometheus rule file, or a PrometheusRule object.",
    commands: ["alerts"],
  },
  // Version gate and KDM metadata (issue 17): `check` selectors and --kdm, which scan, plan and
  // check accept (src/versions/kdm.ts reads it).
  {
    name: "calico",
    value: list(),
    usage: "check: Calico release(s), comma-separated (v3.28.0).",
    commands: ["check"],
  },
  {
    name: "flannel",
    value: list(),
    usage: "check: flannel release(s), comma-separated (v0.24.3), judged by the advisories' flannel ranges.",
    commands: ["check"],
  },
  {
    name: "upgrade-from",
    value: text(),
    usage:
      "check: the Calico release running now; with the target versions given, also warns where an advisory's data says the upgrade loses a protective default (v3.28.1).",
    commands: ["check"],
  },
  {
    name: "rke1",
    value: list(),
    usage: "check: RKE1 Kubernetes version(s), comma-separated (v1.30.3-rancher1-1).",
    commands: ["check"],
  },
  {
    name: "plugin",
    value: oneOf(["canal", "calico"]),
    values: ["canal", "calico"],
    default: "canal",
    usage: "check: the RKE1 network plugin for --rke1.",
    commands: ["check"],
  },
  {
    name: "rke2",
    value: list(),
    usage: "check: RKE2 release(s), comma-separated (v1.30.2+rke2r1).",
    commands: ["check"],
  },
  {
    name: "cni",
    value: oneOf(["canal", "calico", "flannel"]),
    values: ["canal", "calico", "flannel"],
    usage:
      "check: the RKE2 CNI chart for --rke2 (default: the one an RKE2 config.yaml given with --rke-config selects, else canal, RKE2's default).",
    commands: ["check"],
  },
  {
    name: "rancher",
    value: list(),
    usage:
      "Rancher version: check answers which offered versions are affected; narrows check's, plan's and scan's fixed alternatives to what it offers (plan and scan otherwise read it from cattle-system/cattle-cluster-agent).",
    commands: ["check", "plan", "scan"],
  },
  {
    name: "rke-cli",
    value: list(),
    usage: "check: RKE CLI release (v1.6.1): its default and offered versions; narrows RKE1 alternatives.",
    commands: ["check"],
  },
  {
    name: "kdm",
    value: text(),
    env: "CNIDOCTOR_KDM",
    usage:
      "A Rancher KDM data.json (FILE or http(s) URL) that extends the shipped version tables; the file wins where they disagree.",
    commands: ["check", "scan", "plan"],
  },
  {
    name: "kdm-cache",
    value: text(),
    usage: "Save the --kdm URL's body to FILE for later offline use (--kdm FILE).",
    commands: ["check", "scan", "plan"],
  },
  {
    name: "kdm-timeout",
    value: duration(),
    default: "30s",
    usage: "How long fetching a --kdm URL may take (e.g. 10s, 2m).",
    commands: ["check", "scan", "plan"],
  },
  // End of the version gate block.
  { name: "help", short: "h", value: bool(), usage: "Show help for the command.", commands: [] },
] as const satisfies readonly FlagSpec[];

export type FlagName = (typeof FLAGS)[number]["name"];

export function flagsFor(command: string): FlagSpec[] {
  return FLAGS.filter((f: FlagSpec) => f.commands.length === 0 || f.commands.includes(command));
}

/** The spec of `name` on `command` (each name has one spec; undefined when the command lacks it). */
export function specFor(name: string, command: string): FlagSpec | undefined {
  return flagsFor(command).find((f) => f.name === name);
}

/** The flag's default on `command`: its own default there, else the flag's. */
export function defaultFor(f: FlagSpec, command: string): string | undefined {
  return f.defaults?.[command] ?? f.default;
}

/** The values `command` accepts for the flag. */
export function valuesFor(f: FlagSpec, command: string): readonly string[] | undefined {
  return f.valuesFor?.[command] ?? f.values;
}

/** "table|json|yaml" for a command's usage line, from the table. */
export function choices(name: FlagName, command: string): string {
  const f = specFor(name, command);
  return (f !== undefined ? (valuesFor(f, command) ?? []) : []).join("|");
}
