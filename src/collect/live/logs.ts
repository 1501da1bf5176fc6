// calico-node logs straight from the API, bounded (sinceSeconds, limitBytes) and streamed into the
// log engine; the previous container's log too when the container restarted. Nothing is buffered:
// each response body flows chunk by chunk into scanLogStream (or into a file, for `collect`).

import type { Gap } from "../../model/provenance.js";
import type { LogScan, LogSourceResult } from "../../model/logs.js";
import { scanLogStream, type SignatureSet } from "../../logs/index.js";
import type { ApiResult, KubeClient } from "../../kube/client.js";
import { runPool } from "./pool.js";

export interface LogBounds {
  sinceSeconds: number;
  limitBytes: number;
}

export interface PodLogTarget {
  namespace: string;
  pod: string;
  node?: string;
  /** The pod's main container when it is not the scan's (kube-flannel in a flannel pod). */
  container?: string;
  restartCount: number;
  /** The pod's status.startTime: the year for log stamps without one (klog). */
  startTime?: string;
  /**
   * Further containers of the pod whose current log is read too (containers other advisories
   * name, e.g. Canal's kube-flannel). Their previous log is not: restartCount counts the main one.
   */
  others?: string[];
}

export function logPath(t: PodLogTarget, container: string, bounds: LogBounds, previous: boolean): string {
  const params = new URLSearchParams({ container });
  if (bounds.sinceSeconds > 0) params.set("sinceSeconds", String(Math.ceil(bounds.sinceSeconds)));
  if (bounds.limitBytes > 0) params.set("limitBytes", String(bounds.limitBytes));
  if (previous) params.set("previous", "true");
  return `/api/v1/namespaces/${encodeURIComponent(t.namespace)}/pods/${encodeURIComponent(t.pod)}/log?${params.toString()}`;
}

/** Opens a pod's log stream (current or previous container). */
export function openLog(
  client: KubeClient,
  t: PodLogTarget,
  container: string,
  bounds: LogBounds,
  previous: boolean,
): Promise<ApiResult<AsyncIterable<Uint8Array>>> {
  return client.stream(logPath(t, container, bounds, previous));
}

function emptyScan(): LogScan {
  return { bytes: 0, lines: 0, records: 0, formats: [], signals: [], fingerprints: [] };
}

/** What reading and scanning one pod's log needs: the container, the signatures, the bounds. */
export type PodLogScan = Pick<LogScanOptions, "container" | "signatures" | "bounds">;

/**
 * One pod's log (current or previous container), read bounded and streamed through the log
 * engine: an unreadable log is status "unreadable", a log cut at --log-bytes is "partial".
 */
export async function scanPodLog(
  client: KubeClient,
  t: PodLogTarget,
  opts: PodLogScan,
  previous = false,
): Promise<LogSourceResult> {
  const source = {
    kind: "pod" as const,
    namespace: t.namespace,
    pod: t.pod,
    container: opts.container,
    origin: "api",
    ...(t.node !== undefined ? { node: t.node } : {}),
    ...(previous ? { previous: true } : {}),
  };
  const opened = await openLog(client, t, opts.container, opts.bounds, previous);
  if (!opened.ok) return { source, status: "unreadable", problem: opened.problem, scan: emptyScan() };
  const started = t.startTime !== undefined ? Date.parse(t.startTime) : Number.NaN;
  const result = await scanLogStream(
    opened.value,
    source,
    opts.signatures,
    Number.isFinite(started) ? { yearNear: new Date(started) } : undefined,
  );
  if (result.status === "read" && opts.bounds.limitBytes > 0 && result.scan.bytes >= opts.bounds.limitBytes) {
    return {
      ...result,
      status: "partial",
      problem: `${t.namespace}/${t.pod} ${opts.container}${previous ? " (previous)" : ""}: stopped at the ${opts.bounds.limitBytes}-byte cap (--log-bytes)`,
    };
  }
  return result;
}

export interface LogScanOptions {
  container: string;
  signatures: SignatureSet;
  bounds: LogBounds;
  concurrency: number;
  onPodDone?: (done: number, total: number) => void;
}

/** Scans every target's log; an unreadable current log becomes a `logs` gap for its node. */
export async function scanPodLogs(
  client: KubeClient,
  targets: readonly PodLogTarget[],
  opts: LogScanOptions,
): Promise<{ logs: LogSourceResult[]; gaps: Gap[] }> {
  const logs: LogSourceResult[] = [];
  const gaps: Gap[] = [];
  let done = 0;
  await runPool(targets, opts.concurrency, async (t) => {
    const main = t.container ?? opts.container;
    for (const container of [main, ...(t.others ?? [])]) {
      const current = await scanPodLog(client, t, { ...opts, container }, false);
      logs.push(current);
      // A stream cut short by an error (not by the byte cap) may have hidden the symptom: a gap too.
      const capped = current.problem?.endsWith("(--log-bytes)") === true;
      if (current.status === "unreadable" || (current.status === "partial" && !capped))
        gaps.push({
          check: "logs",
          reason: current.problem ?? "unreadable",
          subject: t.node ?? `${t.namespace}/${t.pod}`,
        });
    }
    // The previous container's log is a bonus: kubelets keep only one, and it may be gone.
    if (t.restartCount > 0) logs.push(await scanPodLog(client, t, { ...opts, container: main }, true));
    opts.onPodDone?.(++done, targets.length);
  });
  logs.sort((a, b) => JSON.stringify(a.source).localeCompare(JSON.stringify(b.source)));
  return { logs, gaps };
}
