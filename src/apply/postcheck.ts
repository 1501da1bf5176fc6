// The post-check: the diagnosis re-run after apply, compared node by node with the one before.
//
// A change Felix does not apply live (some FelixConfiguration settings, a DaemonSet template change)
// only takes effect when calico-node's container restarts: Felix exits 129 and the kubelet starts
// it again, or the pod is replaced. Until then the log is the old run's, and right after it the new
// run logs its start-up records (which an advisory may know as expected context, not the
// symptom). So the verdict after a change is judged only on what the
// new container logged, for a short window after it started; a node whose container did not
// restart in time is reported as not re-judged rather than compared on its old log. This module
// holds the decisions (pure); postcheck-live.ts does the waiting and reading.

import type { Diagnosis } from "../analyze/diagnose.js";
import type { Status } from "../model/finding.js";
import type { Step } from "../model/plan.js";

const RANK: Record<Status, number> = { affected: 3, "at-risk": 2, unknown: 1, "not-affected": 0 };

/** One calico-node container run: the pod it is in and where the kubelet counts it. */
export interface FelixRun {
  node: string;
  namespace: string;
  pod: string;
  uid: string;
  restartCount: number;
  /** state.running.startedAt (RFC 3339); absent while the container is not running. */
  startedAt?: string;
}

/** How the post-check saw one watched node after the change. */
export type NodeRestart =
  | { node: string; state: "restarted"; run: FelixRun; seenAtMs: number }
  | { node: string; state: "not-restarted"; reason: string };

export interface PostCheck {
  improved: string[];
  worse: string[];
  unchanged: string[];
  notJudged: string[];
  lines: string[];
}

/**
 * Whether an applied step takes effect only through a calico-node restart that happens after apply
 * returns: a FelixConfiguration change (Felix exits and is restarted for most settings) or a DaemonSet template change (the controller replaces the pods). A rolling restart
 * has already waited for its replacements when apply returns.
 */
export function restartFollows(step: Step): boolean {
  return (
    step.kind === "kube-patch" &&
    (step.target.kind === "FelixConfiguration" || step.target.kind === "DaemonSet")
  );
}

/** The FelixConfiguration fields the applied steps set, which Felix picks up only on a restart. */
export function restartSettings(steps: readonly Step[]): string[] {
  const fields = steps.flatMap((s) =>
    s.kind === "kube-patch" && s.target.kind === "FelixConfiguration"
      ? s.expect.flatMap((e) => (e.path[0] === "spec" && typeof e.path[1] === "string" ? [e.path[1]] : []))
      : [],
  );
  return [...new Set(fields)];
}

/** The nodes whose verdict a fix is meant to change: affected and at-risk ones. */
export function watchedNodes(before: Diagnosis): string[] {
  return before.verdicts
    .filter((v) => v.status === "affected" || v.status === "at-risk")
    .map((v) => v.subject)
    .sort();
}

/**
 * Whether `now` is a later run of calico-node than `before`: another pod, a higher restart count,
 * or (no baseline, e.g. a pod created during apply) a container started at or after `changedAtMs`.
 */
export function isNewRun(before: FelixRun | undefined, now: FelixRun, changedAtMs: number): boolean {
  if (now.startedAt === undefined) return false;
  if (before === undefined) return Date.parse(now.startedAt) >= changedAtMs - 1000;
  if (now.uid !== before.uid) return true;
  if (now.restartCount > before.restartCount) return true;
  return (
    before.startedAt !== undefined &&
    Date.parse(now.startedAt) > Date.parse(before.startedAt) &&
    Date.parse(now.startedAt) >= changedAtMs - 1000
  );
}

/**
 * One poll of the wait: which watched nodes now run a new calico-node container, and which not yet.
 * `current` may hold several pods per node (an old one terminating beside its replacement).
 */
export function observeRestarts(
  watched: readonly string[],
  baseline: ReadonlyMap<string, FelixRun>,
  current: readonly FelixRun[],
  changedAtMs: number,
): { restarted: Map<string, FelixRun>; pending: string[] } {
  const restarted = new Map<string, FelixRun>();
  const pending: string[] = [];
  for (const node of watched) {
    const run = current.find((r) => r.node === node && isNewRun(baseline.get(node), r, changedAtMs));
    if (run === undefined) pending.push(node);
    else restarted.set(node, run);
  }
  return { restarted, pending };
}

/** When the log of a run observed at `seenAtMs` has been written for `windowMs`: the time to read it. */
export function readAt(seenAtMs: number, windowMs: number): number {
  return seenAtMs + windowMs;
}

function note(status: Status, restart: NodeRestart | undefined, windowSeconds: number): string {
  if (restart?.state !== "restarted") return "";
  const since = restart.run.startedAt ?? "?";
  return status === "affected"
    ? ` (the retry loop is in what calico-node logged since it restarted at ${since})`
    : ` (judged on the ${windowSeconds}s calico-node logged after it restarted at ${since})`;
}

/**
 * Compares the verdicts before and after. With `restarts`, a watched node is judged only when its
 * calico-node restarted (the after-diagnosis then holds only that run's log); the others are listed
 * as not re-judged with the reason.
 */
export function comparePostCheck(
  before: Diagnosis,
  after: Diagnosis,
  restarts?: { nodes: readonly NodeRestart[]; windowSeconds: number },
): PostCheck {
  const prior = new Map(before.verdicts.map((v) => [v.subject, v.status]));
  const byNode = new Map((restarts?.nodes ?? []).map((r) => [r.node, r]));
  const result: PostCheck = { improved: [], worse: [], unchanged: [], notJudged: [], lines: [] };
  for (const v of after.verdicts) {
    const was = prior.get(v.subject);
    if (was === undefined) continue;
    const restart = byNode.get(v.subject);
    if (restart?.state === "not-restarted") {
      result.notJudged.push(`${v.subject}: ${was}, ${restart.reason}`);
      continue;
    }
    const line = `${v.subject}: ${was} → ${v.status}${note(v.status, restart, restarts?.windowSeconds ?? 0)}`;
    if (RANK[v.status] < RANK[was]) result.improved.push(line);
    else if (RANK[v.status] > RANK[was]) result.worse.push(line);
    else
      result.unchanged.push(
        restart === undefined && v.status === "affected"
          ? `${line} (the signature is still in its calico-node log)`
          : line,
      );
  }
  const n = after.verdicts.length;
  result.lines.push(
    `post-check: ${result.improved.length} of ${n} node(s) improved, ${result.worse.length} worse, ${result.unchanged.length} unchanged${result.notJudged.length > 0 ? `, ${result.notJudged.length} not re-judged` : ""}`,
    ...result.improved.map((l) => `  improved  ${l}`),
    ...result.worse.map((l) => `  WORSE     ${l}`),
    ...result.unchanged.map((l) => `  unchanged ${l}`),
    ...result.notJudged.map((l) => `  not re-judged ${l}`),
  );
  return result;
}
