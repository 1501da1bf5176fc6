// Events on the Node, deduplicated and rate-limited: per advisory at most one API write per
// interval while the symptom goes on. The first match creates an events.k8s.io/v1 Event; later
// matches are counted and, at most once per interval, written as that Event's series (count and
// last time) — the isomorphic-event semantics of the events API. A transition of the condition
// (seen / cleared) is its own Event, at most one per transition.

import type { AgentEvent, NodeApi } from "./kube.js";
import type { Transition } from "./conditions.js";

export interface EventOptions {
  api: NodeApi;
  node: string;
  /** Node events live in "default", where kubelet puts its own. */
  namespace?: string;
  intervalMs: number;
  now: () => number;
}

interface Series {
  name: string;
  /** Matches in the series so far (written or not). */
  count: number;
  written: number;
  lastWriteAt: number;
  lastObservedAt: number;
}

const CONTROLLER = "cnidoctor.io/agent";

function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/Z$/, "000Z");
}

export class EventRecorder {
  private readonly series = new Map<string, Series>();
  private readonly pending = new Map<string, { reason: string; note: string; count: number; at: number }>();
  private sequence = 0;
  nodeUid = "";

  constructor(private readonly opts: EventOptions) {}

  private get namespace(): string {
    return this.opts.namespace ?? "default";
  }

  private eventName(): string {
    this.sequence++;
    return `${this.opts.node}.cnidoctor.${this.opts.now().toString(16)}${this.sequence.toString(16)}`;
  }

  private event(reason: string, note: string, type: AgentEvent["type"], at: number): AgentEvent {
    return {
      name: this.eventName(),
      namespace: this.namespace,
      eventTime: microTime(at),
      reason,
      note: note.length > 1000 ? `${note.slice(0, 997)}...` : note,
      type,
      action: "ScanCalicoLogs",
      reportingController: CONTROLLER,
      reportingInstance: `cnidoctor-agent-${this.opts.node}`.slice(0, 128),
      regarding: { apiVersion: "v1", kind: "Node", name: this.opts.node, uid: this.nodeUid },
    };
  }

  /** Symptom matches seen for an advisory (counted now, written by flush under the rate limit). */
  observe(advisoryId: string, reason: string, note: string, count = 1): void {
    const p = this.pending.get(advisoryId);
    const at = this.opts.now();
    if (p) {
      p.count += count;
      p.note = note;
      p.at = at;
    } else this.pending.set(advisoryId, { reason, note, count, at });
  }

  /** Writes what the rate limit allows; returns the number of API writes made. */
  async flush(): Promise<number> {
    let writes = 0;
    const now = this.opts.now();
    for (const [id, p] of this.pending) {
      const s = this.series.get(id);
      if (s && now - s.lastWriteAt < this.opts.intervalMs) continue;
      if (s) {
        s.count += p.count;
        s.lastObservedAt = p.at;
        const alive = await this.opts.api.patchEventSeries(this.namespace, s.name, {
          count: s.count,
          lastObservedTime: microTime(p.at),
        });
        writes++;
        if (alive) {
          s.written = s.count;
          s.lastWriteAt = now;
          this.pending.delete(id);
          continue;
        }
        this.series.delete(id); // expired (event TTL): start a new Event below
      }
      const event = this.event(p.reason, p.note, "Warning", p.at);
      await this.opts.api.createEvent(event);
      writes++;
      this.series.set(id, { name: event.name, count: 1, written: 1, lastWriteAt: now, lastObservedAt: p.at });
      // Matches beyond the first go into the series at the next allowed write.
      if (p.count > 1) this.pending.set(id, { ...p, count: p.count - 1 });
      else this.pending.delete(id);
    }
    return writes;
  }

  /** One Event for a condition transition; a clear also ends the advisory's series. */
  async transition(t: Transition): Promise<void> {
    if (t.previous === undefined && t.status === "False") return; // first write of a healthy node
    if (t.status === "False") {
      this.series.delete(t.advisory.id);
      this.pending.delete(t.advisory.id);
    }
    const reason = `${t.advisory.conditionType}${t.status === "True" ? "" : "Cleared"}`;
    await this.opts.api.createEvent(
      this.event(reason, t.message, t.status === "True" ? "Warning" : "Normal", this.opts.now()),
    );
  }
}
