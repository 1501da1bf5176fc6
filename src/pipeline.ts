// The one way from a target to a report, shared by every diagnosing command (scan, logs, plan,
// apply and its post-check):
//
//   target (bundle | live cluster | log files)
//     → collectors: the target's own, then the optional ones (Prometheus) → Snapshot
//     → analysis: each advisory judges the snapshot → Diagnosis[]
//     → report: findings, coverage, summary and, when asked, the platform section → Report
//
// Commands turn flags into a PipelineInput, call a stage (or runPipeline for all of them) and
// render what comes back. Nothing here reads flags or writes to a terminal: progress goes to a
// hook as lines.

import { NO_OBJECT_NEEDS, objectNeeds, type ObjectNeeds } from "./collect/object-needs.js";
import type { Advisory } from "./model/advisory.js";
import type { Platform, Report } from "./model/finding.js";
import type { Fact } from "./model/provenance.js";
import type { Snapshot } from "./model/snapshot.js";
import type { VersionTables } from "./versions/tables.js";
import type { PrometheusTarget } from "./collect/prometheus/client.js";
import type { KubeClient } from "./kube/client.js";
import type { LogBounds } from "./collect/live/logs.js";
import { compileSignatures, type ScanOptions, type SignatureSet, type WindowBound } from "./logs/index.js";
import { collectBundle } from "./collect/bundle/collect-bundle.js";
import { collectLive } from "./collect/live/collect-live.js";
import { collectLogFiles } from "./collect/logs/collect-logs.js";
import { collectPrometheus } from "./collect/prometheus/collect.js";
import { collectNodeFacts } from "./collect/prometheus/node-facts.js";
import { diagnose, type Diagnosis } from "./analyze/diagnose.js";
import { buildReport } from "./analyze/findings.js";
import { platformSection } from "./analyze/platform.js";

/** The container whose logs and resources the collectors read. */
export const CONTAINER = "calico-node";

/**
 * The containers besides CONTAINER whose logs the advisories read (their `component.container`),
 * in the advisories' order; the collectors read them in the install pods that run them.
 */
function logContainers(advisories: readonly Pick<Advisory, "component">[]): string[] {
  return [...new Set(advisories.map((a) => a.component.container))].filter((c) => c !== CONTAINER);
}

/** A connected cluster; the pipeline closes it when the live collector is done. */
export interface LiveSession {
  client: KubeClient;
  /** Shown as the report's target (the kube context). */
  context: string;
  close(): void;
}

/** How much of a live cluster to read. */
export interface LiveRead {
  bounds: LogBounds;
  concurrency: number;
  /** Seconds over which to take several resource samples; 0: two, around the log reading. */
  sampleSeconds: number;
  nodeSelector?: string;
}

export type Target =
  | { kind: "bundle"; dir: string }
  | { kind: "live"; open: () => Promise<LiveSession>; read: LiveRead }
  | {
      kind: "logs";
      /** Shown as the report's target. */
      name: string;
      /** One entry per source: a file, '-', or the members of a rotated set (logSourcesOf). */
      sources: readonly (readonly string[])[];
      since?: WindowBound;
      until?: WindowBound;
      /** Stop each source once its evidence is conclusive. */
      sample?: boolean;
    };

/** Prometheus as a collector: range queries over the window ending at `now`. */
export interface PrometheusSource {
  target: PrometheusTarget;
  windowSeconds: number;
  /** The window as the user wrote it, for the progress line. */
  windowLabel: string;
}

export interface PipelineInput {
  target: Target;
  advisories: readonly Advisory[];
  prometheus?: PrometheusSource;
  /**
   * Judge the platform (Rancher, RKE, KDM) against these tables. The section is added only when
   * there is something to judge it by: a KDM file, a Rancher version given, or one the cluster shows.
   */
  versions?: { tables: VersionTables; rancher?: Fact<string> };
  tool: { name: string; version: string };
  now: Date;
  /** Progress lines for people; absent: none are made. */
  progress?: (line: string) => void;
}

export interface PipelineResult {
  snapshot: Snapshot;
  diagnoses: Diagnosis[];
  report: Report;
}

/** "what: done/total nodes" on each whole percent, for the live collector's per-pod callback. */
export function nodeProgress(
  hook: ((line: string) => void) | undefined,
  what: string,
): ((done: number, total: number) => void) | undefined {
  if (!hook) return undefined;
  let lastShown = -1;
  return (done, total) => {
    const pct = Math.floor((done / Math.max(1, total)) * 100);
    if (pct === lastShown && done !== total) return;
    lastShown = pct;
    hook(`${what}: ${done}/${total} nodes`);
  };
}

const GB = 1e9;

/** Bytes, %, rate and ETA of one log source, at most 4 lines a second. */
function bytesProgress(hook: (line: string) => void, label: string): ScanOptions {
  const started = Date.now();
  let last = 0;
  return {
    onProgress(done, total) {
      const now = Date.now();
      if (now - last < 250 && (total === undefined || done < total)) return;
      last = now;
      const seconds = Math.max((now - started) / 1000, 0.001);
      const rate = done / seconds;
      let line = `${label}: ${(done / GB).toFixed(2)} GB`;
      if (total !== undefined && total > 0) {
        const eta = rate > 0 ? Math.max(0, (total - done) / rate) : 0;
        line += ` of ${(total / GB).toFixed(2)} GB (${Math.min(100, (100 * done) / total).toFixed(0)}%), ETA ${eta.toFixed(0)}s`;
      }
      hook(`${line}, ${(rate / 1e6).toFixed(0)} MB/s`);
    },
  };
}

/**
 * What the loaded advisories ask the collectors to read beyond calico-node: other containers'
 * logs, and objects or node facts their conditions look at.
 */
export interface CollectScope {
  others: readonly string[];
  needs: ObjectNeeds;
}

const WHOLE_TARGET_SCOPE: CollectScope = { others: [], needs: NO_OBJECT_NEEDS };

export function collectScope(advisories: readonly Advisory[]): CollectScope {
  return { others: logContainers(advisories), needs: objectNeeds(advisories) };
}

/** The target's own collector. */
export async function collectTarget(
  target: Target,
  signatures: SignatureSet,
  now: Date,
  progress?: (line: string) => void,
  scope: CollectScope = WHOLE_TARGET_SCOPE,
): Promise<Snapshot> {
  const { others, needs } = scope;
  switch (target.kind) {
    case "bundle":
      return collectBundle(target.dir, {
        container: CONTAINER,
        logContainers: others,
        signatures,
        now,
        needs,
      });
    case "logs": {
      const hook = progress;
      return collectLogFiles({
        sources: target.sources,
        name: target.name,
        signatures,
        now,
        ...(target.since !== undefined ? { since: target.since } : {}),
        ...(target.until !== undefined ? { until: target.until } : {}),
        ...(target.sample === true ? { sample: true } : {}),
        ...(hook !== undefined ? { progressFor: (label: string) => bytesProgress(hook, label) } : {}),
      });
    }
    case "live": {
      const session = await target.open();
      try {
        const onPod = nodeProgress(progress, `${CONTAINER} logs`);
        const r = target.read;
        return await collectLive(session.client, {
          container: CONTAINER,
          logContainers: others,
          signatures,
          now,
          targetName: session.context,
          bounds: r.bounds,
          concurrency: r.concurrency,
          sampleSeconds: r.sampleSeconds,
          needs,
          ...(r.nodeSelector !== undefined ? { nodeSelector: r.nodeSelector } : {}),
          ...(onPod ? { progress: onPod } : {}),
        });
      } finally {
        session.close();
      }
    }
  }
}

/** Prometheus's series and gaps, next to whatever the target's collector read. */
async function withPrometheus(
  snapshot: Snapshot,
  source: PrometheusSource,
  now: Date,
  needs: ObjectNeeds,
  progress?: (line: string) => void,
): Promise<Snapshot> {
  progress?.(`querying Prometheus ${source.target.url} over ${source.windowLabel}`);
  const result = await collectPrometheus({
    target: source.target,
    container: CONTAINER,
    windowSeconds: source.windowSeconds,
    now,
  });
  const withSeries: Snapshot = {
    ...snapshot,
    resources: [...(snapshot.resources ?? []), ...result.series],
    gaps: [...snapshot.gaps, ...result.gaps],
  };
  return needs.agentFacts ? withNodeFacts(withSeries, source, now, progress) : withSeries;
}

/**
 * The node agent's facts from its series in Prometheus, for the nodes the target's own collector
 * has none for (a bundle's node-facts.json, read at the bundle's time, stays first). The target's
 * "no node agent data" gap gives way to what Prometheus showed.
 */
async function withNodeFacts(
  snapshot: Snapshot,
  source: PrometheusSource,
  now: Date,
  progress?: (line: string) => void,
): Promise<Snapshot> {
  const own = snapshot.agentFacts ?? [];
  const nodes = snapshot.nodes.map((n) => n.name).filter((n) => !own.some((f) => f.node === n));
  if (nodes.length === 0) return snapshot;
  progress?.(`reading node agent facts from Prometheus ${source.target.url}`);
  const result = await collectNodeFacts({
    target: source.target,
    windowSeconds: source.windowSeconds,
    now,
    nodes,
  });
  return {
    ...snapshot,
    agentFacts: [...own, ...result.facts],
    gaps: [...snapshot.gaps.filter((g) => own.length > 0 || g.check !== "node-agent"), ...result.gaps],
  };
}

/** Every collector the input asks for, in order: the target's, then Prometheus. */
export async function collect(input: PipelineInput): Promise<Snapshot> {
  const signatures = compileSignatures([...input.advisories]);
  const scope = collectScope(input.advisories);
  const snapshot = await collectTarget(input.target, signatures, input.now, input.progress, scope);
  if (input.prometheus === undefined) return snapshot;
  return withPrometheus(snapshot, input.prometheus, input.now, scope.needs, input.progress);
}

/** Each advisory's verdicts on the snapshot. */
export function analyse(snapshot: Snapshot, advisories: readonly Advisory[]): Diagnosis[] {
  return advisories.map((a) => diagnose(snapshot, a));
}

/** The report of those verdicts, with the platform section when there is something to judge. */
export function report(
  snapshot: Snapshot,
  diagnoses: Diagnosis[],
  input: Pick<PipelineInput, "advisories" | "versions" | "tool" | "now">,
): Report {
  const built = buildReport({ snapshot, diagnoses, tool: input.tool, now: input.now });
  const platform = platformOf(snapshot, input);
  return platform !== undefined ? { ...built, platform } : built;
}

function platformOf(
  snapshot: Snapshot,
  input: Pick<PipelineInput, "advisories" | "versions">,
): Platform | undefined {
  const v = input.versions;
  if (v === undefined) return undefined;
  const rancher = v.rancher ?? snapshot.rancher?.version;
  if (v.tables.kdmOrigin === undefined && rancher === undefined && snapshot.rancher === undefined)
    return undefined;
  return platformSection(snapshot, [...input.advisories], v.tables, rancher);
}

/** Collect, analyse, report. */
export async function runPipeline(input: PipelineInput): Promise<PipelineResult> {
  const snapshot = await collect(input);
  const diagnoses = analyse(snapshot, input.advisories);
  return { snapshot, diagnoses, report: report(snapshot, diagnoses, input) };
}
