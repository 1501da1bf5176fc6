// apply's post-check, live: before the change, note which calico-node container runs on each
// affected or at-risk node; after it, wait (bounded by --restart-wait and --timeout) until each has
// restarted, let it log for --post-check-window, and judge the nodes on that new log only.

import { objectNeeds } from "../../collect/object-needs.js";
import { analyse } from "../../pipeline.js";
import {
  byNode,
  felixRuns,
  readNewRuns,
  waitForRestarts,
  type DaemonSetRef,
  type PostCheckApi,
} from "../../apply/postcheck-live.js";
import {
  comparePostCheck,
  restartFollows,
  restartSettings,
  watchedNodes,
  type FelixRun,
} from "../../apply/postcheck.js";
import type { KubeClient } from "../../kube/client.js";
import type { Step } from "../../model/plan.js";
import type { Snapshot } from "../../model/snapshot.js";
import type { ParsedArgs } from "../parse-flags.js";
import { flagValue } from "../flag-access.js";
import { connect, liveSettings } from "./live-options.js";
import { readCluster, type Facts } from "./remediate-shared.js";
import type { Runtime } from "./types.js";

const CONTAINER = "calico-node";

/** What the post-check noted before the change. */
export interface PostCheckBaseline {
  client: KubeClient;
  /**
   * Clears the connection's --timeout timer and closes the client. Idempotent; every path out of
   * apply calls it, or the armed timer would keep the finished process alive until it fired.
   */
  release: () => void;
  daemonSets: DaemonSetRef[];
  watched: string[];
  runs: Map<string, FelixRun>;
  changedAtMs: number;
  waitMs: number;
  windowMs: number;
  limitBytes: number;
  deadlineMs: number;
}

/**
 * Reads the watched nodes' calico-node runs before anything changes (undefined when there is no
 * live diagnosis to compare with). Flags are checked here, before the change, so a bad value
 * changes nothing.
 */
export async function postCheckBaseline(
  args: ParsedArgs,
  rt: Runtime,
  facts: Facts,
): Promise<PostCheckBaseline | undefined> {
  const settings = liveSettings(args);
  const waitMs = Math.min(flagValue(args, "restart-wait") * 1000, settings.deadlineMs);
  const windowMs = Math.min(flagValue(args, "post-check-window") * 1000, settings.deadlineMs);
  if (facts.diagnosis === undefined || facts.snapshot?.target.kind !== "live") return undefined;
  const daemonSets = facts.snapshot.installs.map((i) => ({ namespace: i.namespace, name: i.name }));
  const { client, disarm } = await connect(args, rt, settings);
  let released = false;
  const release = (): void => {
    if (released) return;
    released = true;
    disarm();
    client.close();
  };
  const watched = watchedNodes(facts.diagnosis);
  let runs = new Map<string, FelixRun>();
  try {
    runs = byNode(await felixRuns(client, daemonSets, CONTAINER));
  } catch {
    // Without a baseline a run counts as new when it started after the change (isNewRun).
  }
  return {
    client,
    release,
    daemonSets,
    watched,
    runs,
    changedAtMs: Date.now(),
    waitMs,
    windowMs,
    limitBytes: settings.bounds.limitBytes,
    deadlineMs: settings.deadlineMs,
  };
}

/** The after-snapshot with the watched nodes' logs replaced by their new runs' logs. */
function withNewLogs(after: Snapshot, watched: readonly string[], fresh: Snapshot["logs"]): Snapshot {
  const w = new Set(watched);
  const kept = after.logs.filter(
    (l) => !(l.source.kind === "pod" && l.source.node !== undefined && w.has(l.source.node)),
  );
  return { ...after, logs: [...kept, ...fresh] };
}

export async function livePostCheck(
  args: ParsedArgs,
  rt: Runtime,
  facts: Facts,
  base: PostCheckBaseline,
  applied: readonly Step[],
): Promise<string[]> {
  if (facts.diagnosis === undefined) return [];
  const api: PostCheckApi = base.client;
  const expectRestart = applied.some(restartFollows);
  const total = base.waitMs + base.windowMs + base.deadlineMs;
  const stop = setTimeout(() => {
    base.client.abort(
      `the post-check's time (restart wait, window and --timeout) of ${Math.round(total / 1000)} s ran out`,
    );
  }, total);
  try {
    const restarts = await waitForRestarts(api, {
      daemonSets: base.daemonSets,
      container: CONTAINER,
      watched: base.watched,
      baseline: base.runs,
      changedAtMs: base.changedAtMs,
      expectRestart,
      settings: restartSettings(applied),
      waitMs: base.waitMs,
    });
    const fresh = await readNewRuns(api, restarts, {
      container: CONTAINER,
      signatures: facts.signatures,
      windowMs: base.windowMs,
      limitBytes: base.limitBytes,
    });
    // Each post-check read has a whole --timeout of its own (a rolling restart may have taken long).
    const after = await readCluster(
      args,
      { ...rt, now: new Date(), startedAt: performance.now() },
      facts.signatures,
      objectNeeds([facts.advisory]),
    );
    if (after === undefined) return [];
    const judged = withNewLogs(after, base.watched, fresh);
    const [judgedDiagnosis] = analyse(judged, [facts.advisory]);
    if (judgedDiagnosis === undefined) return [];
    return comparePostCheck(facts.diagnosis, judgedDiagnosis, {
      nodes: restarts,
      windowSeconds: Math.round(base.windowMs / 1000),
    }).lines;
  } catch (e) {
    return [`post-check: could not be completed: ${e instanceof Error ? e.message : String(e)}`];
  } finally {
    clearTimeout(stop);
    base.release();
  }
}
