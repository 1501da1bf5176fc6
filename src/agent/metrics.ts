// The agent's metrics and their Prometheus text exposition (format 0.0.4). A dozen series do not
// justify a client library: this writer handles exactly what the agent exports — counters and
// gauges with labels — and escapes label values as the format requires.

import { NODE_FACT_SERIES } from "../model/node-fact-series.js";

export type MetricType = "counter" | "gauge";

type Labels = Readonly<Record<string, string>>;

interface Family {
  name: string;
  help: string;
  type: MetricType;
  labelNames: readonly string[];
  series: Map<string, { labels: Labels; value: number }>;
}

/** Escapes a label value: backslash, double quote and newline. */
export function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

/** Escapes HELP text: backslash and newline. */
function escapeHelp(text: string): string {
  return text.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
}

export function formatValue(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Number.POSITIVE_INFINITY) return "+Inf";
  if (value === Number.NEGATIVE_INFINITY) return "-Inf";
  return String(value);
}

/** A metric family handle: set / add by label values in the family's label order. */
export class Metric {
  constructor(private readonly family: Family) {}

  private entry(labels: Labels): { labels: Labels; value: number } {
    const key = this.family.labelNames.map((n) => labels[n] ?? "").join("\u0000");
    let e = this.family.series.get(key);
    if (!e) {
      const own: Record<string, string> = {};
      for (const n of this.family.labelNames) own[n] = labels[n] ?? "";
      e = { labels: own, value: 0 };
      this.family.series.set(key, e);
    }
    return e;
  }

  /** Makes the series exist (at 0) so rate() has a starting point before the first event. */
  init(labels: Labels = {}): void {
    this.entry(labels);
  }

  inc(labels: Labels = {}, by = 1): void {
    if (this.family.type === "counter" && by < 0) throw new Error(`${this.family.name}: counters only go up`);
    this.entry(labels).value += by;
  }

  set(labels: Labels, value: number): void {
    if (this.family.type === "counter") throw new Error(`${this.family.name}: counters cannot be set`);
    this.entry(labels).value = value;
  }

  /**
   * Exports a counter kept elsewhere (a kernel counter) at the value read. It goes down only when
   * that source restarts (a reboot), which Prometheus reads as a counter reset, as it should.
   */
  mirror(labels: Labels, value: number): void {
    if (this.family.type !== "counter") throw new Error(`${this.family.name}: only counters are mirrored`);
    this.entry(labels).value = value;
  }

  /** Drops every series: an info metric whose labels changed must not keep its old series. */
  clear(): void {
    this.family.series.clear();
  }

  get(labels: Labels = {}): number | undefined {
    const key = this.family.labelNames.map((n) => labels[n] ?? "").join("\u0000");
    return this.family.series.get(key)?.value;
  }
}

export class Registry {
  private readonly families: Family[] = [];

  private add(name: string, help: string, type: MetricType, labelNames: readonly string[]): Metric {
    if (!/^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(name)) throw new Error(`invalid metric name '${name}'`);
    if (this.families.some((f) => f.name === name)) throw new Error(`metric '${name}' registered twice`);
    const family: Family = { name, help, type, labelNames, series: new Map() };
    this.families.push(family);
    return new Metric(family);
  }

  counter(name: string, help: string, labelNames: readonly string[] = []): Metric {
    return this.add(name, help, "counter", labelNames);
  }

  gauge(name: string, help: string, labelNames: readonly string[] = []): Metric {
    return this.add(name, help, "gauge", labelNames);
  }

  /** The text exposition of every family; a family without series still gets its HELP and TYPE. */
  render(): string {
    const out: string[] = [];
    for (const f of this.families) {
      out.push(`# HELP ${f.name} ${escapeHelp(f.help)}`, `# TYPE ${f.name} ${f.type}`);
      for (const { labels, value } of f.series.values()) {
        const pairs = f.labelNames.map((n) => `${n}="${escapeLabelValue(labels[n] ?? "")}"`);
        out.push(`${f.name}${pairs.length > 0 ? `{${pairs.join(",")}}` : ""} ${formatValue(value)}`);
      }
    }
    return `${out.join("\n")}\n`;
  }
}

/** The content type Prometheus expects for the text format. */
export const EXPOSITION_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/** Every series the agent exports, created once per agent. */
export interface AgentMetrics {
  registry: Registry;
  matches: Metric;
  lastMatch: Metric;
  bytesRead: Metric;
  linesRead: Metric;
  up: Metric;
  errors: Metric;
  filesTracked: Metric;
  symptomActive: Metric;
  apiWrites: Metric;
  /** Node facts (with --host-root): generic facts of the node, not verdicts. */
  factRead: Metric;
  nicInfo: Metric;
  udpInCsumErrors: Metric;
  kernelLogMatches: Metric;
}

export function agentMetrics(): AgentMetrics {
  const r = new Registry();
  return {
    registry: r,
    matches: r.counter(
      "cnidoctor_signature_matches_total",
      "Log records of this node's calico-node that matched an advisory signature.",
      ["advisory", "signature", "node"],
    ),
    lastMatch: r.gauge(
      "cnidoctor_last_match_timestamp_seconds",
      "Time of the last matching record (its log timestamp, else when the agent read it), in seconds since the epoch.",
      ["advisory", "signature", "node"],
    ),
    bytesRead: r.counter("cnidoctor_log_bytes_read_total", "Log bytes read by the agent (decompressed).", [
      "node",
    ]),
    linesRead: r.counter("cnidoctor_log_lines_read_total", "Log lines read by the agent.", ["node"]),
    up: r.gauge(
      "cnidoctor_agent_up",
      "1 when the last scan pass completed without an error reading the log roots, else 0.",
      ["node"],
    ),
    errors: r.counter("cnidoctor_agent_errors_total", "Errors of the agent, by where they happened.", [
      "node",
      "kind",
    ]),
    filesTracked: r.gauge(
      "cnidoctor_agent_files_tracked",
      "calico-node log files the agent currently follows.",
      ["node"],
    ),
    symptomActive: r.gauge(
      "cnidoctor_symptom_active",
      "1 while the advisory's Node condition is True (symptom seen within --clear-after), else 0.",
      ["advisory", "node"],
    ),
    apiWrites: r.counter(
      "cnidoctor_agent_api_writes_total",
      "Writes the agent sent to the Kubernetes API (node status patches, event creates and patches).",
      ["node", "kind"],
    ),
    factRead: r.gauge(
      NODE_FACT_SERIES.factRead,
      "1 when the agent read this node fact (nic_driver, udp_in_csum_errors, kernel_log) at its last reading, 0 when it could not (the agent's log says why). Present only with --host-root.",
      ["node", "fact"],
    ),
    nicInfo: r.gauge(
      NODE_FACT_SERIES.nicInfo,
      "The NIC carrying the node's default route and its kernel driver (always 1; from /proc/1/net/route and /sys/class/net/<interface>/device/driver under --host-root).",
      ["node", "interface", "driver"],
    ),
    udpInCsumErrors: r.counter(
      NODE_FACT_SERIES.udpInCsumErrors,
      "The node's UDP InCsumErrors counter (/proc/1/net/snmp under --host-root): received UDP datagrams with a bad checksum, as the kernel counts them (restarts at 0 when the node reboots).",
      ["node"],
    ),
    kernelLogMatches: r.counter(
      NODE_FACT_SERIES.kernelLogMatches,
      "Kernel log records (/dev/kmsg under --host-root) that matched a kernel-log condition of a loaded advisory, by condition id.",
      ["node", "condition"],
    ),
  };
}
