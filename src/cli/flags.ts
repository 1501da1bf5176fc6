// Every flag is defined once here: name, env var, allowed values and usage. Help text and the
// README's flag reference are generated from this table (scripts/docs/cli-reference.ts).

export interface FlagSpec {
  name: string;
  short?: string;
  type: "string" | "boolean";
  /** Environment variable that supplies a default. */
  env?: string;
  values?: readonly string[];
  default?: string | boolean;
  multiple?: boolean;
  usage: string;
  /** Commands that accept it; empty means all. */
  commands: readonly string[];
}

export const OUTPUT_FORMATS = ["table", "json", "yaml", "markdown", "html"] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

export const FLAGS: readonly FlagSpec[] = [
  {
    name: "output",
    short: "o",
    type: "string",
    env: "CNIDOCTOR_OUTPUT",
    values: OUTPUT_FORMATS,
    default: "table",
    usage: "Report format (plan and check: not html).",
    commands: ["scan", "logs", "advisories", "plan", "check"],
  },
  {
    name: "bundle",
    type: "string",
    usage:
      "Scan a `kubectl cluster-info dump --all-namespaces --output-directory` directory instead of a live cluster.",
    commands: ["scan", "plan", "apply"],
  },
  {
    name: "advisories",
    type: "string",
    env: "CNIDOCTOR_ADVISORIES",
    usage: "Directory of advisory files to use instead of the ones shipped with cnidoctor.",
    commands: ["scan", "logs", "advisories", "agent", "plan", "apply", "rollback", "alerts", "check"],
  },
  {
    name: "color",
    type: "boolean",
    usage: "Force colour in table output (default: only when stdout is a terminal and NO_COLOR is unset).",
    commands: ["scan", "logs"],
  },
  { name: "no-color", type: "boolean", usage: "Never use colour.", commands: ["scan", "logs"] },
  // `logs` only (src/cli/commands/logs.ts parses and checks the values).
  {
    name: "since",
    type: "string",
    usage:
      "Count only log lines at or after this time: RFC 3339 (2024-08-09T08:00:00Z) or a duration before the log's last timestamp (2h, 30m).",
    commands: ["logs"],
  },
  {
    name: "until",
    type: "string",
    usage:
      "Count only log lines at or before this time: RFC 3339 or a duration before the log's last timestamp.",
    commands: ["logs"],
  },
  {
    name: "sample",
    type: "boolean",
    usage:
      "Stop reading once the evidence is conclusive (20 symptom records spanning 10 minutes); says how much was read.",
    commands: ["logs"],
  },
  // Live cluster access and bounds (scan without --bundle, collect). Values are parsed and checked
  // by src/cli/commands/live-options.ts.
  {
    name: "kubeconfig",
    type: "string",
    usage: "Kubeconfig file (default: $KUBECONFIG, ~/.kube/config, else in-cluster service account).",
    commands: ["scan", "collect", "plan", "apply", "rollback"],
  },
  {
    name: "context",
    type: "string",
    usage: "Kubeconfig context to use.",
    commands: ["scan", "collect", "plan", "apply", "rollback"],
  },
  {
    name: "nodes",
    type: "string",
    usage: "Label selector on nodes: scan only the calico-node pods of those nodes.",
    commands: ["scan", "collect", "plan", "apply"],
  },
  {
    name: "since",
    type: "string",
    default: "1h",
    usage: "How much calico-node log to read per pod (e.g. 30m, 1h, 2h30m).",
    commands: ["scan", "collect", "plan", "apply"],
  },
  {
    name: "log-bytes",
    type: "string",
    default: "16Mi",
    usage: "Cap on log bytes read per pod and container (e.g. 16Mi, 1Gi, 500000).",
    commands: ["scan", "collect", "plan", "apply"],
  },
  {
    name: "concurrency",
    type: "string",
    default: "16",
    usage: "Pods or nodes read at the same time.",
    commands: ["scan", "collect", "plan", "apply"],
  },
  {
    name: "qps",
    type: "string",
    default: "100",
    usage: "Client-side rate limit on API requests per second.",
    commands: ["scan", "collect", "plan", "apply"],
  },
  {
    name: "burst",
    type: "string",
    default: "200",
    usage: "Requests allowed at once above --qps.",
    commands: ["scan", "collect", "plan", "apply"],
  },
  {
    name: "request-timeout",
    type: "string",
    default: "30s",
    usage: "Timeout of each API request (and of a stalled log stream); failures are retried with backoff.",
    commands: ["scan", "collect", "plan", "apply"],
  },
  {
    name: "timeout",
    type: "string",
    default: "10m",
    usage:
      "Overall deadline for reading the cluster (1s to 7d); whatever is not read by then is reported as a coverage gap.",
    commands: ["scan", "collect", "plan", "apply"],
  },
  {
    name: "sample",
    type: "string",
    default: "0",
    usage:
      "Seconds over which to sample calico-node CPU and memory several times (0: two samples, around the log reading).",
    commands: ["scan", "plan", "apply"],
  },
  {
    name: "output",
    short: "o",
    type: "string",
    usage:
      "Directory to write the bundle to (must not exist or be empty; --force replaces an earlier cnidoctor bundle, never other files).",
    commands: ["collect"],
  },
  {
    name: "force",
    type: "boolean",
    usage:
      "collect: replace an earlier bundle in --output. rollback: restore even over changes made after apply (they are shown first).",
    commands: ["collect", "rollback"],
  },
  // The node agent (src/cli/commands/agent.ts parses and checks the values).
  {
    name: "node-name",
    type: "string",
    env: "NODE_NAME",
    usage: "The node this agent watches (the DaemonSet sets NODE_NAME from the downward API).",
    commands: ["agent"],
  },
  {
    name: "log-root",
    type: "string",
    usage:
      "Comma-separated directories holding calico-node logs (default /var/log/pods,/var/log/containers,/var/log/calico).",
    commands: ["agent"],
  },
  {
    name: "state-dir",
    type: "string",
    default: "/var/lib/cnidoctor-agent",
    usage:
      "Writable directory for the checkpoint (file offsets, last symptom time); a hostPath survives pod replacement.",
    commands: ["agent"],
  },
  {
    name: "listen",
    type: "string",
    default: ":9808",
    usage:
      "Address of the /metrics and /healthz endpoint (HOST:PORT, :PORT for all interfaces, port 0 picks one).",
    commands: ["agent"],
  },
  {
    name: "clear-after",
    type: "string",
    default: "30m",
    usage: "Set the Node condition back to False after the symptom has been absent this long.",
    commands: ["agent"],
  },
  {
    name: "event-interval",
    type: "string",
    default: "10m",
    usage: "At most one Event write per advisory per interval while the symptom goes on.",
    commands: ["agent"],
  },
  {
    name: "poll-interval",
    type: "string",
    default: "1s",
    usage: "How often the log files are read.",
    commands: ["agent"],
  },
  {
    name: "first-write-jitter",
    type: "string",
    default: "60s",
    usage: "The first Node status write waits a random part of this, so a fleet-wide rollout is spread out.",
    commands: ["agent"],
  },
  {
    name: "metrics-only",
    type: "boolean",
    usage: "Only export metrics: no Node condition, no Events, no cluster access needed.",
    commands: ["agent"],
  },
  {
    name: "prometheus",
    type: "string",
    env: "CNIDOCTOR_PROMETHEUS",
    usage:
      "Prometheus base URL to read calico-node CPU, memory, restarts and OOM kills from over --window (with a bundle or a live scan).",
    commands: ["scan"],
  },
  {
    name: "prometheus-token-file",
    type: "string",
    usage: "File holding a bearer token for --prometheus (a token is never taken on the command line).",
    commands: ["scan"],
  },
  {
    name: "prometheus-ca-file",
    type: "string",
    usage: "PEM CA bundle to trust for an https --prometheus.",
    commands: ["scan"],
  },
  {
    name: "window",
    type: "string",
    default: "24h",
    usage: "How far back --prometheus range queries reach (e.g. 6h, 24h, 7d).",
    commands: ["scan"],
  },
  // Remediation: plan, apply, rollback, alerts (src/cli/commands/remediate-shared.ts checks values).
  {
    name: "advisory",
    type: "string",
    usage:
      "The advisory to plan, apply or write alert rules for (plan: default every advisory that found something; apply needs exactly one; alerts: default every loaded advisory).",
    commands: ["plan", "apply", "alerts"],
  },
  {
    name: "rke-config",
    type: "string",
    usage:
      "An RKE cluster.yml (or Rancher's cluster spec) to plan the system_images pin and version upgrade for; `-` reads it from stdin (plan, check; apply needs the file itself).",
    commands: ["plan", "apply", "check"],
  },
  {
    name: "output-dir",
    type: "string",
    default: ".",
    usage: "Where apply writes generated files (HelmChartConfig, CronJob manifests, alert rules).",
    commands: ["plan", "apply"],
  },
  {
    name: "state-dir",
    type: "string",
    env: "CNIDOCTOR_STATE_DIR",
    usage: "Backups and audit log go to DIR/backups/<ID>/ (default ~/.local/state/cnidoctor).",
    commands: ["apply", "rollback"],
  },
  {
    name: "yes",
    short: "y",
    type: "boolean",
    usage: "Make the changes without asking.",
    commands: ["apply", "rollback"],
  },
  {
    name: "only",
    type: "string",
    usage: "Comma-separated step IDs to apply instead of the plan's default steps (see `cnidoctor plan`).",
    commands: ["apply"],
  },
  {
    name: "max-unavailable",
    type: "string",
    default: "1",
    usage: "Rolling restart: calico-node pods restarted per batch.",
    commands: ["plan", "apply"],
  },
  {
    name: "batch-timeout",
    type: "string",
    default: "300",
    usage: "Rolling restart: seconds (or 5m) each batch may take to be Ready before the restart stops.",
    commands: ["plan", "apply"],
  },
  {
    name: "restart-wait",
    type: "string",
    default: "2m",
    usage:
      "Post-check: how long apply waits for calico-node to restart after a change Felix applies only on restart (xdpEnabled); at most --timeout.",
    commands: ["apply"],
  },
  {
    name: "post-check-window",
    type: "string",
    default: "30s",
    usage: "Post-check: how long calico-node logs after its restart before that log (and only it) is judged.",
    commands: ["apply"],
  },
  {
    name: "only-symptomatic",
    type: "boolean",
    usage: "Rolling restart: restart only pods whose calico-node log shows the signature.",
    commands: ["plan", "apply"],
  },
  {
    name: "lease-ttl",
    type: "string",
    default: "900",
    usage: "Rolling restart: seconds the coordination Lease is held without renewal.",
    commands: ["plan", "apply"],
  },
  {
    name: "memory-limit",
    type: "string",
    default: "1Gi",
    usage: "Memory limit the limit-memory step sets on calico-node (e.g. 768Mi, 1Gi).",
    commands: ["plan", "apply"],
  },
  {
    name: "image",
    type: "string",
    usage:
      "Image the scheduled-restart CronJob runs; its entrypoint must be the cnidoctor CLI (default: this version's image, ghcr.io/cnidoctor/cnidoctor:<version>; a private registry's copy when air-gapped).",
    commands: ["plan", "apply"],
  },
  {
    name: "schedule",
    type: "string",
    usage: "Cron schedule of the scheduled-restart CronJob (default 17 */6 * * *).",
    commands: ["plan", "apply"],
  },
  {
    name: "daemonset",
    type: "string",
    usage: "NAMESPACE/NAME: restart only this DaemonSet, reading nothing else (the CronJob's mode).",
    commands: ["apply"],
  },
  {
    name: "format",
    type: "string",
    values: ["rules", "prometheusrule"],
    default: "rules",
    usage: "alerts: a plain Prometheus rule file, or a PrometheusRule object.",
    commands: ["alerts"],
  },
  // Version gate and KDM metadata (issue 17): `check` selectors (src/cli/commands/check.ts parses
  // them) and --kdm, which scan, plan and check accept (src/versions/kdm.ts reads it).
  {
    name: "calico",
    type: "string",
    usage: "check: Calico release(s), comma-separated (v3.28.0).",
    commands: ["check"],
  },
  {
    name: "rke1",
    type: "string",
    usage: "check: RKE1 Kubernetes version(s), comma-separated (v1.30.3-rancher1-1).",
    commands: ["check"],
  },
  {
    name: "plugin",
    type: "string",
    values: ["canal", "calico"],
    default: "canal",
    usage: "check: the RKE1 network plugin for --rke1.",
    commands: ["check"],
  },
  {
    name: "rke2",
    type: "string",
    usage: "check: RKE2 release(s), comma-separated (v1.30.2+rke2r1).",
    commands: ["check"],
  },
  {
    name: "cni",
    type: "string",
    values: ["canal", "calico"],
    usage:
      "check: the RKE2 CNI chart for --rke2 (default: the one an RKE2 config.yaml given with --rke-config selects, else canal, RKE2's default).",
    commands: ["check"],
  },
  {
    name: "rancher",
    type: "string",
    usage:
      "Rancher version: check answers which offered versions are affected; narrows check's, plan's and scan's fixed alternatives to what it offers (plan and scan otherwise read it from cattle-system/cattle-cluster-agent).",
    commands: ["check", "plan", "scan"],
  },
  {
    name: "rke-cli",
    type: "string",
    usage: "check: RKE CLI release (v1.6.1): its default and offered versions; narrows RKE1 alternatives.",
    commands: ["check"],
  },
  {
    name: "kdm",
    type: "string",
    env: "CNIDOCTOR_KDM",
    usage:
      "A Rancher KDM data.json (FILE or http(s) URL) that extends the shipped version tables; the file wins where they disagree.",
    commands: ["check", "scan", "plan"],
  },
  {
    name: "kdm-cache",
    type: "string",
    usage: "Save the --kdm URL's body to FILE for later offline use (--kdm FILE).",
    commands: ["check", "scan", "plan"],
  },
  {
    name: "kdm-timeout",
    type: "string",
    default: "30s",
    usage: "How long fetching a --kdm URL may take (e.g. 10s, 2m).",
    commands: ["check", "scan", "plan"],
  },
  // End of the version gate block.
  { name: "help", short: "h", type: "boolean", usage: "Show help for the command.", commands: [] },
];

export function flagsFor(command: string): FlagSpec[] {
  return FLAGS.filter((f) => f.commands.length === 0 || f.commands.includes(command));
}
