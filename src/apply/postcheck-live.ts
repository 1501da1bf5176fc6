// The post-check's reads: the calico-node container runs on the watched nodes (before the change,
// then polled until each has restarted or the bounded wait ends), and each new run's log from its
// start (sinceTime), read once the short window has passed. Decisions are in postcheck.ts.

import type { ApiResult, Obj } from "../kube/client.js";
import type { LogSourceResult } from "../model/logs.js";
import { scanLogStream, type SignatureSet } from "../logs/index.js";
import { observeRestarts, readAt, type FelixRun, type NodeRestart } from "./postcheck.js";

/** The two reads the post-check needs (the live collector's KubeClient has both). */
export interface PostCheckApi {
  list(path: string): Promise<ApiResult<Obj[]>>;
  stream(path: string): Promise<ApiResult<AsyncIterable<Uint8Array>>>;
}

/** The calico DaemonSets to watch (from the snapshot read before the change). */
export interface DaemonSetRef {
  namespace: string;
  name: string;
}

export interface RestartWaitOptions {
  daemonSets: readonly DaemonSetRef[];
  container: string;
  watched: readonly string[];
  baseline: ReadonlyMap<string, FelixRun>;
  changedAtMs: number;
  /** Whether a restart is expected (false: look once, do not wait). */
  expectRestart: boolean;
  /** The Felix settings the change set (restartSettings), named when a node did not restart. */
  settings?: readonly string[];
  /** Upper bound of the wait for the restarts. */
  waitMs: number;
  pollMs?: number;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

const realSleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function asRecord(v: unknown): Record<string, unknown> | undefined {
  return typeof v === "object" && v !== null && !Array.isArray(v)
    ? (v as Record<string, unknown>)
    : undefined;
}

/** The calico-node container run of one pod, when it is one of the DaemonSet's pods on a node. */
export function runOf(pod: Obj, ds: DaemonSetRef, container: string): FelixRun | undefined {
  const meta = asRecord(pod.metadata);
  const spec = asRecord(pod.spec);
  const status = asRecord(pod.status);
  const owners = Array.isArray(meta?.ownerReferences) ? meta.ownerReferences : [];
  const owned = owners.some((o) => {
    const r = asRecord(o);
    return r?.kind === "DaemonSet" && r.name === ds.name;
  });
  const node = spec?.nodeName;
  if (!owned || typeof node !== "string" || meta?.deletionTimestamp !== undefined) return undefined;
  const statuses = Array.isArray(status?.containerStatuses) ? status.containerStatuses : [];
  const c = statuses.map(asRecord).find((s) => s?.name === container);
  const startedAt = asRecord(asRecord(c?.state)?.running)?.startedAt;
  return {
    node,
    namespace: ds.namespace,
    pod: typeof meta?.name === "string" ? meta.name : "",
    uid: typeof meta?.uid === "string" ? meta.uid : "",
    restartCount: typeof c?.restartCount === "number" ? c.restartCount : 0,
    ...(typeof startedAt === "string" ? { startedAt } : {}),
  };
}

/** Every current calico-node run of the DaemonSets; a failed list is an error naming it. */
export async function felixRuns(
  api: PostCheckApi,
  daemonSets: readonly DaemonSetRef[],
  container: string,
): Promise<FelixRun[]> {
  const runs: FelixRun[] = [];
  for (const ds of daemonSets) {
    const pods = await api.list(`/api/v1/namespaces/${encodeURIComponent(ds.namespace)}/pods`);
    if (!pods.ok) throw new Error(pods.problem);
    for (const p of pods.value) {
      const run = runOf(p, ds, container);
      if (run !== undefined) runs.push(run);
    }
  }
  return runs;
}

/** One run per node, the newest start first when a node has two (a replacement beside its old pod). */
export function byNode(runs: readonly FelixRun[]): Map<string, FelixRun> {
  const out = new Map<string, FelixRun>();
  for (const r of runs) {
    const had = out.get(r.node);
    if (had === undefined || (r.startedAt ?? "") > (had.startedAt ?? "")) out.set(r.node, r);
  }
  return out;
}

/**
 * Polls until every watched node runs a new calico-node container or the wait ends; a node still
 * on its old run then is "not-restarted" with the reason.
 */
export async function waitForRestarts(api: PostCheckApi, o: RestartWaitOptions): Promise<NodeRestart[]> {
  const now = o.now ?? Date.now;
  const sleep = o.sleep ?? realSleep;
  const deadline = now() + (o.expectRestart ? o.waitMs : 0);
  const seen = new Map<string, NodeRestart>();
  for (;;) {
    const current = await felixRuns(api, o.daemonSets, o.container);
    const { restarted, pending } = observeRestarts(o.watched, o.baseline, current, o.changedAtMs);
    for (const [node, run] of restarted)
      if (!seen.has(node)) seen.set(node, { node, state: "restarted", run, seenAtMs: now() });
    const left = pending.filter((n) => !seen.has(n));
    if (left.length === 0 || now() >= deadline) {
      for (const node of left)
        seen.set(node, {
          node,
          state: "not-restarted",
          reason: o.expectRestart
            ? `calico-node did not restart within ${Math.round(o.waitMs / 1000)}s of the change, so the change has not taken effect there yet (${
                (o.settings ?? []).length > 0
                  ? `Felix applies ${(o.settings ?? []).join(", ")} only when it restarts`
                  : "it takes effect only when calico-node restarts"
              }); its log is still the old run's`
            : "calico-node was not restarted by this change",
        });
      return o.watched.map((n) => seen.get(n)).filter((r): r is NodeRestart => r !== undefined);
    }
    await sleep(Math.min(o.pollMs ?? 1000, Math.max(0, deadline - now())));
  }
}

/** The log path of one run from its start: only what the new container wrote. */
export function sinceStartPath(run: FelixRun, container: string, limitBytes: number): string {
  const params = new URLSearchParams({ container });
  if (run.startedAt !== undefined) params.set("sinceTime", run.startedAt);
  if (limitBytes > 0) params.set("limitBytes", String(limitBytes));
  return `/api/v1/namespaces/${encodeURIComponent(run.namespace)}/pods/${encodeURIComponent(run.pod)}/log?${params.toString()}`;
}

/**
 * Waits until every restarted run has logged for `windowMs` (counted from when the post-check saw
 * it, so the local clock never meets the node's), then reads each run's log since its start.
 */
export async function readNewRuns(
  api: PostCheckApi,
  restarts: readonly NodeRestart[],
  o: {
    container: string;
    signatures: SignatureSet;
    windowMs: number;
    limitBytes: number;
    now?: () => number;
    sleep?: (ms: number) => Promise<void>;
  },
): Promise<LogSourceResult[]> {
  const now = o.now ?? Date.now;
  const sleep = o.sleep ?? realSleep;
  const runs = restarts.flatMap((r) => (r.state === "restarted" ? [r] : []));
  const until = Math.max(0, ...runs.map((r) => readAt(r.seenAtMs, o.windowMs)));
  if (until > now()) await sleep(until - now());
  const out: LogSourceResult[] = [];
  for (const { run } of runs) {
    const source = {
      kind: "pod" as const,
      namespace: run.namespace,
      pod: run.pod,
      container: o.container,
      node: run.node,
      origin: "api",
    };
    const opened = await api.stream(sinceStartPath(run, o.container, o.limitBytes));
    if (!opened.ok) {
      out.push({
        source,
        status: "unreadable",
        problem: opened.problem,
        scan: { bytes: 0, lines: 0, records: 0, formats: [], signals: [], fingerprints: [] },
      });
      continue;
    }
    out.push(await scanLogStream(opened.value, source, o.signatures));
  }
  return out;
}
