// The gated rolling restart: under a Lease, check every pod of the DaemonSet is Ready, then delete
// pods in batches of maxUnavailable and wait until each replacement (a new pod on the same node) is
// Ready; the first batch that is not Ready in time stops the restart with a report. With
// onlySymptomatic, only pods whose calico-node log (read bounded, like the live collector's) shows
// the advisory's symptom are restarted, so a scheduled run does nothing once the symptom is gone.
// Nothing to undo: pods come back from the unchanged template.

import type { ApiResult, KubeClient, Obj } from "../kube/client.js";
import type { LogSourceResult } from "../model/logs.js";
import type { RollingRestartStep, Step } from "../model/plan.js";
import type { BackupEntry } from "./backup-store.js";
import type { StepHandler } from "./executor.js";
import { Lease } from "./lease.js";

/** The pod whose log --only-symptomatic reads (the live collector's PodLogTarget, by shape). */
export interface RestartLogTarget {
  namespace: string;
  pod: string;
  node?: string;
  restartCount: number;
}

export interface RestartOptions {
  advisoryId: string;
  /**
   * Reads and scans one pod's log of the step's container, bounded (--since, --log-bytes); needed
   * only by --only-symptomatic steps. The caller owns how logs are read and scanned.
   */
  scanLog?: (target: RestartLogTarget, container: string) => Promise<LogSourceResult>;
  /** Lease holder identity, e.g. "cnidoctor@host/pid". */
  holder: string;
  pollMs?: number;
  clock?: () => Date;
  /** Progress lines for people. */
  progress?: (line: string) => void;
}

export class RestartStoppedError extends Error {}

/** The named DaemonSet is missing, is not a calico-node one, or has no pod: bad usage, not success. */
export class RestartTargetError extends Error {}

/** The fields of a Pod the restart reads. */
interface Pod {
  metadata?: {
    name?: string;
    namespace?: string;
    uid?: string;
    deletionTimestamp?: string;
    ownerReferences?: { kind?: string; name?: string }[];
  };
  spec?: { nodeName?: string };
  status?: {
    phase?: string;
    conditions?: { type?: string; status?: string; reason?: string; message?: string }[];
  };
}

interface DaemonSet {
  spec?: {
    selector?: { matchLabels?: Record<string, string> };
    template?: { spec?: { containers?: { name?: string }[] } };
  };
}

function isReady(p: Pod): boolean {
  return (
    p.metadata?.deletionTimestamp === undefined &&
    (p.status?.conditions ?? []).some((c) => c.type === "Ready" && c.status === "True")
  );
}

function why(p: Pod | undefined): string {
  if (p === undefined) return "no replacement pod yet";
  const cond = (p.status?.conditions ?? []).find(
    (c) => c.status !== "True" && (c.reason ?? c.message) !== undefined,
  );
  return `${p.metadata?.name ?? "?"} ${p.status?.phase ?? "?"}${cond ? ` (${cond.type}: ${cond.reason ?? ""} ${cond.message ?? ""})`.trimEnd() : ""}`;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function asRestart(step: Step): RollingRestartStep {
  if (step.kind !== "rolling-restart") throw new Error(`not a rolling-restart step: ${step.id}`);
  return step;
}

/** The answer, or an Error with the client's one-line problem. */
function value(r: ApiResult<Obj>): Obj {
  if (!r.ok) throw new Error(r.problem);
  return r.value;
}

export class RestartHandler implements StepHandler {
  readonly kinds = ["rolling-restart"] as const;
  private readonly clock: () => Date;

  constructor(
    private readonly client: KubeClient,
    private readonly opts: RestartOptions,
  ) {
    this.clock = opts.clock ?? (() => new Date());
  }

  /**
   * The DaemonSet's current pods (owned by it). A DaemonSet that does not exist or is not a
   * calico-node one is a RestartTargetError: the step names a target that matches nothing, which
   * must not end as "nothing to restart".
   */
  async pods(s: RollingRestartStep): Promise<Pod[]> {
    const ns = s.daemonSet.namespace ?? "kube-system";
    const ref = `DaemonSet ${ns}/${s.daemonSet.name}`;
    const read = await this.client.getJson(
      `/apis/apps/v1/namespaces/${encodeURIComponent(ns)}/daemonsets/${encodeURIComponent(s.daemonSet.name)}`,
    );
    if (!read.ok && read.status === 404) throw new RestartTargetError(`${ref} not found`);
    const ds = value(read) as DaemonSet;
    const labels = ds.spec?.selector?.matchLabels ?? {};
    if (Object.keys(labels).length === 0)
      throw new RestartTargetError(`${ref}: the server returned no DaemonSet with a label selector`);
    const containers = ds.spec?.template?.spec?.containers ?? [];
    if (!containers.some((c) => c.name === s.container))
      throw new RestartTargetError(
        `${ref} has no ${s.container} container (it runs ${containers.map((c) => c.name ?? "?").join(", ") || "none"}); only calico-node DaemonSets are restarted`,
      );
    const selector = Object.entries(labels)
      .map(([k, v]) => `${k}=${v}`)
      .join(",");
    const list = await this.client.list(
      `/api/v1/namespaces/${encodeURIComponent(ns)}/pods?labelSelector=${encodeURIComponent(selector)}`,
    );
    if (!list.ok) throw new Error(list.problem);
    return (list.value as Pod[]).filter((p) =>
      (p.metadata?.ownerReferences ?? []).some((o) => o.kind === "DaemonSet" && o.name === s.daemonSet.name),
    );
  }

  /** Whether the pod's current log (bounded by --since/--log-bytes) shows the advisory's symptom. */
  private async symptomatic(s: RollingRestartStep, pod: Pod): Promise<boolean> {
    if (this.opts.scanLog === undefined) throw new Error(`${s.id}: no log reader for --only-symptomatic`);
    const target: RestartLogTarget = {
      namespace: pod.metadata?.namespace ?? "",
      pod: pod.metadata?.name ?? "",
      restartCount: 0,
      ...(pod.spec?.nodeName !== undefined ? { node: pod.spec.nodeName } : {}),
    };
    const read = await this.opts.scanLog(target, s.container);
    // A log cut short by an error (not by the --log-bytes cap) may hide the symptom: not a "no".
    const cutShort = read.status === "partial" && read.problem?.endsWith("(--log-bytes)") !== true;
    if (read.status === "unreadable" || cutShort)
      throw new Error(`${target.namespace}/${target.pod}: ${read.problem ?? "log unreadable"}`);
    return read.scan.signals.some(
      (x) => x.advisoryId === this.opts.advisoryId && x.role === "symptom" && x.count > 0,
    );
  }

  /** The pods the step would restart, by node name. */
  async targets(s: RollingRestartStep): Promise<Pod[]> {
    const pods = (await this.pods(s)).filter((p) => p.metadata?.deletionTimestamp === undefined);
    const chosen: Pod[] = [];
    for (const p of pods) if (!s.onlySymptomatic || (await this.symptomatic(s, p))) chosen.push(p);
    return chosen.sort((a, b) => (a.spec?.nodeName ?? "").localeCompare(b.spec?.nodeName ?? ""));
  }

  async inspect(step: Step): Promise<"applied" | "pending"> {
    const s = asRestart(step);
    // A DaemonSet with no pod at all matches nothing: that is a wrong name, never "done".
    if ((await this.pods(s)).length === 0)
      throw new RestartTargetError(
        `DaemonSet ${s.daemonSet.namespace ?? "kube-system"}/${s.daemonSet.name} has no pod to restart`,
      );
    // A symptom-gated restart with no symptomatic pod has nothing to do.
    return s.onlySymptomatic && (await this.targets(s)).length === 0 ? "applied" : "pending";
  }

  /** Read-only: the DaemonSet is readable and no other run holds the Lease. */
  async rehearse(step: Step): Promise<void> {
    const s = asRestart(step);
    await this.pods(s);
    await this.lease(s).check(this.clock());
  }

  private lease(s: RollingRestartStep): Lease {
    return new Lease(this.client, s.lease.namespace, s.lease.name, this.opts.holder, s.lease.ttlSeconds);
  }

  /** The gate after taking the Lease: every pod Ready before anything is restarted. */
  private async allReady(s: RollingRestartStep): Promise<void> {
    const notReady = (await this.pods(s)).filter((p) => !isReady(p));
    if (notReady.length > 0)
      throw new RestartStoppedError(
        `${s.daemonSet.namespace ?? ""}/${s.daemonSet.name}: ${notReady.length} pod(s) not Ready before the restart (${notReady.map(why).join("; ")}); not starting`,
      );
  }

  backup(step: Step): Promise<BackupEntry> {
    const s = asRestart(step);
    return Promise.resolve({
      stepId: s.id,
      kind: s.kind,
      state: "backed-up",
      note: "nothing to back up: pods are recreated from the unchanged DaemonSet template",
    });
  }

  private async waitReady(s: RollingRestartStep, nodes: string[], old: Set<string>): Promise<string[]> {
    const deadline = this.clock().getTime() + s.batchTimeoutSeconds * 1000;
    for (;;) {
      const pods = await this.pods(s);
      const pending = nodes.filter(
        (n) => !pods.some((p) => p.spec?.nodeName === n && !old.has(p.metadata?.uid ?? "") && isReady(p)),
      );
      if (pending.length === 0) return [];
      if (this.clock().getTime() >= deadline)
        return pending.map(
          (n) => `${n}: ${why(pods.find((p) => p.spec?.nodeName === n && !old.has(p.metadata?.uid ?? "")))}`,
        );
      await sleep(this.opts.pollMs ?? 1000);
    }
  }

  async apply(step: Step): Promise<string> {
    const s = asRestart(step);
    const ns = s.daemonSet.namespace ?? "kube-system";
    const lease = this.lease(s);
    await lease.acquire(this.clock());
    try {
      await this.allReady(s);
      const targets = await this.targets(s);
      const done: string[] = [];
      for (let k = 0; k < targets.length; k += s.maxUnavailable) {
        const batch = targets.slice(k, k + s.maxUnavailable);
        const nodes = batch.map((p) => p.spec?.nodeName ?? "");
        const old = new Set(batch.map((p) => p.metadata?.uid ?? ""));
        for (const p of batch)
          value(
            await this.client.delete(
              `/api/v1/namespaces/${encodeURIComponent(ns)}/pods/${encodeURIComponent(p.metadata?.name ?? "")}`,
            ),
          );
        const failed = await this.waitReady(s, nodes, old);
        if (failed.length > 0) {
          const left = targets.slice(k + s.maxUnavailable).map((p) => p.spec?.nodeName ?? "");
          throw new RestartStoppedError(
            `stopped at batch ${k / s.maxUnavailable + 1}: not Ready within ${s.batchTimeoutSeconds}s: ${failed.join("; ")}. Restarted: ${done.length > 0 ? done.join(", ") : "none"}; not touched: ${left.length > 0 ? left.join(", ") : "none"}`,
          );
        }
        done.push(...nodes);
        this.opts.progress?.(
          `restart ${ns}/${s.daemonSet.name}: ${done.length}/${targets.length} Ready (${nodes.join(", ")})`,
        );
        await lease.renew(this.clock());
      }
      return targets.length === 0
        ? "no pod to restart"
        : `restarted ${done.length} pod(s) on ${done.join(", ")}; all Ready`;
    } finally {
      await lease.release();
    }
  }

  /** Restarted pods are not state: nothing later can conflict with undoing a restart. */
  conflict(): Promise<string | undefined> {
    return Promise.resolve(undefined);
  }

  undo(entry: BackupEntry): Promise<string> {
    return Promise.resolve(`${entry.stepId}: nothing to restore (a restart changes no object)`);
  }
}
