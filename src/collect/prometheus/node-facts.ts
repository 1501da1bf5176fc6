// Node facts from Prometheus: the series the node agent exports for what it reads on its node with
// --host-root (src/model/node-fact-series.ts), read back over the scan window and turned into one
// AgentNodeFacts per cluster node. This is how a live scan (or a bundle scan with --prometheus)
// gets facts only the agent can read, without the scan itself needing any access to the node.
//
// A node with no series at all says why (its agent is not scraped, or runs without node facts);
// a series of a node that is not in the cluster is ignored. The UDP checksum counter's increase
// counts across resets (a reboot restarts it), sample by sample: a reset and a rise that both fall
// between two steps of the range query are missed, which the step (at most 1/240 of the window)
// keeps rare.

import type { Gap } from "../../model/provenance.js";
import type { AgentFactsMissing, AgentNodeFacts } from "../../model/snapshot.js";
import { FACT_LABEL, NODE_FACT_SERIES } from "../../model/node-fact-series.js";
import { PrometheusError, queryRange } from "./client.js";
import type { MatrixSeries, PrometheusTarget } from "./client.js";
import { describeWindow } from "./collect.js";

export interface NodeFactsCollectOptions {
  target: PrometheusTarget;
  /** Window length in seconds, ending at `now`. */
  windowSeconds: number;
  now: Date;
  /** The cluster's nodes: each gets an entry, and series of any other node are ignored. */
  nodes: readonly string[];
  /** Points per series to ask for (the step follows from it); default 240. */
  points?: number;
}

export interface NodeFactsResult {
  facts: AgentNodeFacts[];
  gaps: Gap[];
  /** The queries that ran. */
  queries: string[];
}

interface Point {
  t: number;
  v: number;
}

interface Series {
  labels: Record<string, string>;
  points: Point[];
}

const QUERIES = {
  agentUp: `max by (node) (${NODE_FACT_SERIES.agentUp})`,
  factRead: `max by (node, fact) (${NODE_FACT_SERIES.factRead})`,
  nicInfo: `max by (node, interface, driver) (${NODE_FACT_SERIES.nicInfo})`,
  udpInCsumErrors: `max by (node) (${NODE_FACT_SERIES.udpInCsumErrors})`,
  kernelLogMatches: `max by (node, condition) (${NODE_FACT_SERIES.kernelLogMatches})`,
} as const;

type QueryName = keyof typeof QUERIES;

function toSeries(m: MatrixSeries): Series {
  const points = m.values
    .map(([t, text]) => ({ t, v: Number(text) }))
    .filter((p) => Number.isFinite(p.v))
    .sort((a, b) => a.t - b.t);
  return { labels: m.metric, points };
}

/** The increase of a counter over its points, counting a drop as a reset to 0 (Prometheus' rule). */
export function counterIncrease(values: readonly number[]): { increase: number; resets: number } {
  let increase = 0;
  let resets = 0;
  for (let i = 1; i < values.length; i++) {
    const prev = values[i - 1] ?? 0;
    const cur = values[i] ?? 0;
    if (cur >= prev) increase += cur - prev;
    else {
      resets++;
      increase += cur;
    }
  }
  return { increase, resets };
}

function iso(seconds: number): string {
  return new Date(seconds * 1000).toISOString().replace(/\.000Z$/, "Z");
}

function lastTime(series: readonly Series[]): number {
  return Math.max(...series.map((s) => s.points.at(-1)?.t ?? Number.NEGATIVE_INFINITY));
}

/** What each query found, per node of the cluster. */
type ByNode = Record<QueryName, Map<string, Series[]>>;

interface Context {
  url: string;
  window: { start: string; end: string };
  windowLabel: string;
}

function selector(name: string, labels: Record<string, string>): string {
  const pairs = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  return `${name}{${pairs.join(",")}}`;
}

/** The node's last reading of one fact: 1 read, 0 could not, undefined no series. */
function lastRead(found: ByNode, node: string, fact: string): number | undefined {
  const s = (found.factRead.get(node) ?? []).find((x) => x.labels.fact === fact);
  return s?.points.at(-1)?.v;
}

/** Why a fact has no series for a node: the agent said it could not read it, or nothing came. */
function notRead(
  found: ByNode,
  node: string,
  ctx: Context,
  fact: { label: string; what: string; series: string },
): string {
  return lastRead(found, node, fact.label) === 0
    ? `the node agent on ${node} could not read ${fact.what} at its last reading (${NODE_FACT_SERIES.factRead}{fact="${fact.label}"} is 0; the agent's log says why)`
    : `Prometheus ${ctx.url} has no ${fact.series} series for node ${node} in the last ${ctx.windowLabel}`;
}

function missingFacts(node: string, why: AgentFactsMissing, ctx: Context, now: string): AgentNodeFacts {
  const reason =
    why === "agent-not-scraped"
      ? `Prometheus ${ctx.url} has no ${NODE_FACT_SERIES.agentUp} series for node ${node} in the last ${ctx.windowLabel}: no node agent on it is scraped`
      : `the node agent on ${node} is scraped but exports no node facts (no ${NODE_FACT_SERIES.factRead} series): it runs without --host-root`;
  return {
    node,
    readAt: now,
    unavailable: { nicDriver: reason, udpInCsumErrorsRising: reason, kernelLog: reason },
    missing: why,
  };
}

/** What one fact's series gave: the value for AgentNodeFacts and the series it came from. */
interface Read<T> {
  value: T;
  used: Series[];
}

function nicFact(nic: readonly Series[], node: string, ctx: Context): Read<AgentNodeFacts["nicDriver"]> {
  // The driver can change in the window (a replaced NIC): the newest series is the NIC now.
  const newest = [...nic].sort((a, b) => (b.points.at(-1)?.t ?? 0) - (a.points.at(-1)?.t ?? 0))[0];
  if (newest === undefined) return { value: undefined, used: [] };
  const t = newest.points.at(-1)?.t ?? 0;
  const iface = newest.labels.interface ?? "";
  const driver = newest.labels.driver ?? "";
  return {
    value: {
      value: driver,
      ...(iface !== "" ? { interface: iface } : {}),
      source: `Prometheus ${ctx.url} ${selector(NODE_FACT_SERIES.nicInfo, { node, interface: iface, driver })} at ${iso(t)}`,
    },
    used: [newest],
  };
}

function csumFact(
  csum: readonly Series[],
  node: string,
  ctx: Context,
): Read<AgentNodeFacts["udpInCsumErrors"]> {
  const c = csum.find((s) => s.points.length > 0);
  if (c === undefined) return { value: undefined, used: [] };
  const values = c.points.map((p) => p.v);
  const { increase, resets } = counterIncrease(values);
  return {
    value: {
      first: values[0] ?? 0,
      last: values.at(-1) ?? 0,
      increase,
      ...(resets > 0 ? { resets } : {}),
      source: `Prometheus ${ctx.url} ${selector(NODE_FACT_SERIES.udpInCsumErrors, { node })} over ${ctx.window.start} – ${ctx.window.end}`,
    },
    used: [c],
  };
}

function kernelFact(
  kernel: readonly Series[],
  node: string,
  ctx: Context,
): Read<AgentNodeFacts["kernelLog"]> {
  const counted = kernel.filter((k) => k.labels.condition !== undefined && k.points.length > 0);
  if (counted.length === 0) return { value: undefined, used: [] };
  const matches: Record<string, number> = {};
  for (const k of counted)
    matches[k.labels.condition ?? ""] = counterIncrease(k.points.map((p) => p.v)).increase;
  return {
    value: {
      lines: [],
      matches,
      source: `Prometheus ${ctx.url} ${selector(NODE_FACT_SERIES.kernelLogMatches, { node })} over ${ctx.window.start} – ${ctx.window.end}`,
    },
    used: counted,
  };
}

function nodeFacts(node: string, found: ByNode, ctx: Context, now: string): AgentNodeFacts {
  const of = (q: QueryName): Series[] => found[q].get(node) ?? [];
  const nic = nicFact(of("nicInfo"), node, ctx);
  const csum = csumFact(of("udpInCsumErrors"), node, ctx);
  const kernel = kernelFact(of("kernelLogMatches"), node, ctx);
  const used = [...nic.used, ...csum.used, ...kernel.used];
  if (used.length === 0 && of("factRead").length === 0)
    return missingFacts(
      node,
      of("agentUp").length > 0 ? "node-facts-disabled" : "agent-not-scraped",
      ctx,
      now,
    );
  const unavailable: Record<string, string> = {};
  const facts: AgentNodeFacts = {
    node,
    readAt: used.length > 0 ? iso(lastTime(used)) : now,
    unavailable,
  };
  if (nic.value !== undefined) facts.nicDriver = nic.value;
  else
    unavailable.nicDriver = notRead(found, node, ctx, {
      label: FACT_LABEL.nicDriver,
      what: "the default-route NIC's driver",
      series: NODE_FACT_SERIES.nicInfo,
    });
  if (csum.value !== undefined) facts.udpInCsumErrors = csum.value;
  else
    unavailable.udpInCsumErrorsRising = notRead(found, node, ctx, {
      label: FACT_LABEL.udpInCsumErrorsRising,
      what: "the UDP InCsumErrors counter",
      series: NODE_FACT_SERIES.udpInCsumErrors,
    });
  if (kernel.value !== undefined) facts.kernelLog = kernel.value;
  else
    unavailable.kernelLog = notRead(found, node, ctx, {
      label: FACT_LABEL.kernelLog,
      what: "the kernel log",
      series: NODE_FACT_SERIES.kernelLogMatches,
    });
  const series = [
    ...(nic.value !== undefined ? [NODE_FACT_SERIES.nicInfo] : []),
    ...(csum.value !== undefined ? [NODE_FACT_SERIES.udpInCsumErrors] : []),
    ...(kernel.value !== undefined ? [NODE_FACT_SERIES.kernelLogMatches] : []),
  ];
  facts.source = { kind: "prometheus", url: ctx.url, series, window: ctx.window };
  return facts;
}

/** Reads the agent's node fact series over the window and builds each cluster node's facts. */
export async function collectNodeFacts(opts: NodeFactsCollectOptions): Promise<NodeFactsResult> {
  const end = Math.floor(opts.now.getTime() / 1000);
  const stepSeconds = Math.max(15, Math.ceil(opts.windowSeconds / (opts.points ?? 240)));
  const range = { start: end - opts.windowSeconds, end, stepSeconds };
  const out: NodeFactsResult = { facts: [], gaps: [], queries: [] };
  const inCluster = new Set(opts.nodes);
  const found = {} as ByNode;
  for (const name of Object.keys(QUERIES) as QueryName[]) {
    const promql = QUERIES[name];
    out.queries.push(promql);
    let matrix: MatrixSeries[];
    try {
      matrix = await queryRange(opts.target, promql, range);
    } catch (e) {
      if (!(e instanceof PrometheusError)) throw e;
      out.gaps.push({
        check: "node-agent",
        reason: `node facts from Prometheus: ${e.message}`,
        optional: true,
      });
      return out;
    }
    const byNode = new Map<string, Series[]>();
    for (const m of matrix) {
      const node = m.metric.node;
      // Another cluster's agents may report to the same Prometheus: only this cluster's nodes count.
      if (node === undefined || !inCluster.has(node)) continue;
      byNode.set(node, [...(byNode.get(node) ?? []), toSeries(m)]);
    }
    found[name] = byNode;
  }
  const ctx: Context = {
    url: opts.target.url,
    window: { start: iso(range.start), end: iso(range.end) },
    windowLabel: describeWindow(opts.windowSeconds),
  };
  const now = iso(end);
  out.facts = opts.nodes.map((n) => nodeFacts(n, found, ctx, now));
  const without = out.facts.filter((f) => f.missing !== undefined);
  if (without.length > 0) {
    const names = (why: AgentFactsMissing): string[] =>
      without.filter((f) => f.missing === why).map((f) => f.node);
    const parts = [
      [names("agent-not-scraped"), "no node agent scraped"],
      [names("node-facts-disabled"), "the node agent runs without node facts (--host-root)"],
    ] as const;
    const said = parts
      .filter(([list]) => list.length > 0)
      .map(([list, what]) => `${what} on ${shortList(list)}`)
      .join("; ");
    out.gaps.push({
      check: "node-agent",
      reason: `Prometheus ${opts.target.url} has no node facts for ${without.length} of ${opts.nodes.length} node(s) in the last ${ctx.windowLabel}: ${said}`,
      optional: true,
    });
  }
  return out;
}

function shortList(names: readonly string[]): string {
  return names.length <= 5
    ? names.join(", ")
    : `${names.slice(0, 5).join(", ")} and ${names.length - 5} more`;
}
