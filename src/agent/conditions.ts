// One Node condition per advisory with a symptom signature: True while the symptom was seen within
// clearAfter, False otherwise. Written to the Node's status subresource only when the status differs
// from what the Node already says (NPD's heartbeat patches were ~3k of ~11k QPS on a 4k-node
// cluster, node-problem-detector#124); the first write of a fresh agent waits a random share of
// firstWriteJitter so a DaemonSet rollout across thousands of nodes does not arrive at once.

import type { Advisory } from "../model/advisory.js";
import type { ConditionStatus, NodeApi, NodeCondition } from "./kube.js";

export interface WatchedAdvisory {
  id: string;
  title: string;
  conditionType: string;
  /** The container whose logs carry its signature (absent: calico-node). */
  container?: string;
  /** Whether node facts (read with --host-root) can show it too, besides its log signature. */
  nodeFacts?: boolean;
}

/** The type the advisory names for its condition, else one derived from its id. */
export function conditionTypeFor(advisory: Pick<Advisory, "id" | "presentation">): string {
  return advisory.presentation?.conditionType ?? `Cnidoctor${advisory.id.replace(/[^A-Za-z0-9]/g, "")}`;
}

export interface ConditionOptions {
  api: NodeApi;
  node: string;
  advisories: readonly WatchedAdvisory[];
  clearAfterMs: number;
  firstWriteJitterMs: number;
  now: () => number;
  random: () => number;
  /** Re-read the Node this often to repair a condition someone else changed (default 30 min). */
  resyncMs?: number;
}

export interface Transition {
  advisory: WatchedAdvisory;
  status: ConditionStatus;
  /** The status the Node showed before (undefined: the condition did not exist). */
  previous: ConditionStatus | undefined;
  reason: string;
  message: string;
}

interface Watch {
  advisory: WatchedAdvisory;
  lastSymptomAt: number | undefined;
  /** What showed the latest symptom (a log record or a node fact), for the condition's message. */
  lastSeen: string | undefined;
  /** What the Node says now, as last read or written. */
  current: ConditionStatus | undefined;
}

function iso(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
}

function minutes(ms: number): string {
  return ms % 60_000 === 0 ? `${ms / 60_000}m` : `${Math.round(ms / 1000)}s`;
}

export class ConditionReporter {
  private readonly watches = new Map<string, Watch>();
  private firstWriteAt = Number.POSITIVE_INFINITY;
  private lastReadAt = Number.NEGATIVE_INFINITY;
  private readonly resyncMs: number;
  nodeUid = "";

  constructor(private readonly opts: ConditionOptions) {
    this.resyncMs = opts.resyncMs ?? 30 * 60_000;
    for (const a of opts.advisories)
      this.watches.set(a.id, {
        advisory: a,
        lastSymptomAt: undefined,
        lastSeen: undefined,
        current: undefined,
      });
  }

  /** Reads the Node once; `lastSeen` carries symptom times from the checkpoint. */
  async start(lastSeen: Readonly<Record<string, number | undefined>>): Promise<void> {
    await this.read();
    const now = this.opts.now();
    for (const w of this.watches.values()) {
      w.lastSymptomAt = lastSeen[w.advisory.id];
      // The Node says True but this agent has no record of when (fresh state dir): count from now,
      // so an ongoing problem does not flap False and a finished one clears after clearAfter.
      if (w.current === "True" && w.lastSymptomAt === undefined) w.lastSymptomAt = now;
    }
    this.firstWriteAt = now + Math.floor(this.opts.random() * this.opts.firstWriteJitterMs);
  }

  private async read(): Promise<void> {
    const node = await this.opts.api.getNode(this.opts.node);
    this.nodeUid = node.uid;
    for (const w of this.watches.values()) {
      w.current = node.conditions.find((c) => c.type === w.advisory.conditionType)?.status;
    }
    this.lastReadAt = this.opts.now();
  }

  /**
   * A symptom seen at `at` (ms): the log's time, never later than now. `seen` says what showed it
   * (default: the advisory's log signature in its container's logs).
   */
  noteSymptom(advisoryId: string, at: number, seen?: string): void {
    const w = this.watches.get(advisoryId);
    if (!w) return;
    const when = Math.min(at, this.opts.now());
    if (w.lastSymptomAt === undefined || when >= w.lastSymptomAt) {
      w.lastSymptomAt = when;
      w.lastSeen = seen;
    }
  }

  lastSymptomAt(advisoryId: string): number | undefined {
    return this.watches.get(advisoryId)?.lastSymptomAt;
  }

  /** Whether the symptom counts as present now. */
  active(advisoryId: string): boolean {
    const last = this.watches.get(advisoryId)?.lastSymptomAt;
    return last !== undefined && this.opts.now() - last < this.opts.clearAfterMs;
  }

  private desired(w: Watch): Omit<Transition, "previous"> {
    const id = w.advisory.id;
    const container = w.advisory.container ?? "calico-node";
    const last = w.lastSymptomAt;
    if (this.active(id) && last !== undefined) {
      const seen = w.lastSeen ?? `its log signature appeared in this node's ${container} logs`;
      return {
        advisory: w.advisory,
        status: "True",
        reason: "SymptomSeen",
        message: `${id} (${w.advisory.title}): ${seen} at ${iso(last)}. See 'cnidoctor advisories show ${id}'.`,
      };
    }
    const window = minutes(this.opts.clearAfterMs);
    const cleared = w.current === "True";
    const where = `this node's ${container} logs${w.advisory.nodeFacts === true ? " or node facts" : ""}`;
    return {
      advisory: w.advisory,
      status: "False",
      reason: cleared ? "SymptomCleared" : "NoSymptom",
      message: cleared
        ? `${id}: not seen in ${where} for ${window}${last !== undefined ? ` (last at ${iso(last)})` : ""}.`
        : `${id}: not seen in ${where} within ${window}.`,
    };
  }

  /** Writes the conditions whose status changed; returns the transitions written. */
  async reconcile(): Promise<Transition[]> {
    const now = this.opts.now();
    if (now < this.firstWriteAt) return [];
    if (now - this.lastReadAt >= this.resyncMs) await this.read();
    const out: Transition[] = [];
    for (const w of this.watches.values()) {
      const want = this.desired(w);
      if (want.status === w.current) continue;
      const stamp = iso(now);
      const condition: NodeCondition = {
        type: w.advisory.conditionType,
        status: want.status,
        reason: want.reason,
        message: want.message,
        lastTransitionTime: stamp,
        lastHeartbeatTime: stamp,
      };
      await this.opts.api.patchNodeCondition(this.opts.node, condition);
      out.push({ ...want, previous: w.current });
      w.current = want.status;
    }
    return out;
  }
}
