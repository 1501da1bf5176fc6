// The node agent: follows this node's logs of calico-node and of every container a loaded advisory
// names (e.g. Canal's kube-flannel) through the log engine, keeps the metrics,
// and (unless metrics-only) keeps one Node condition per advisory and rate-limited Events. One
// tick() is one pass; run() ticks until its signal aborts, then reads what is left, flushes and
// writes the checkpoint, so a restart continues exactly where this run stopped.

import type { Advisory } from "../model/advisory.js";
// The scanner and signatures only, not logs/index.js: that also loads the file reader with its
// zlib and worker-thread split, which a tailing agent never uses (~1 MB of RSS).
import { LogScanner, type SignatureMatch } from "../logs/scanner.js";
import { compileSignatures, type SignatureSet } from "../logs/signatures.js";
import { loadCheckpoint, saveCheckpoint, type AgentCheckpoint } from "./checkpoint.js";
import { ConditionReporter, conditionTypeFor, type WatchedAdvisory } from "./conditions.js";
import { EventRecorder } from "./events.js";
import type { NodeApi } from "./kube.js";
import { agentMetrics, type AgentMetrics } from "./metrics.js";
import { Tailer } from "./tailer.js";
import { NodeFactsReader } from "./node-facts.js";
import { corroboratingAgentFacts, kernelLogConditions, needsNodeFacts } from "../analyze/corroboration.js";
import { evaluateFactCondition } from "../analyze/fact-conditions.js";
import type { AgentFactCondition } from "../model/advisory.js";
import type { AgentNodeFacts } from "../model/snapshot.js";
import { FACT_LABEL } from "../model/node-fact-series.js";
import { writeFile, rename } from "node:fs/promises";
import { join } from "node:path";

export interface AgentOptions {
  node: string;
  roots: readonly string[];
  stateDir: string;
  advisories: readonly Advisory[];
  /** Absent: metrics only (no Node condition, no Events). */
  api?: NodeApi;
  clearAfterMs: number;
  eventIntervalMs: number;
  pollMs: number;
  firstWriteJitterMs: number;
  /** Receives one line per notable thing (start, problems, transitions). */
  log: (line: string) => void;
  now?: () => number;
  random?: () => number;
  /**
   * Where the host's / is visible, to read node facts (NIC driver, UDP checksum counters, kernel
   * log) for advisories with agent-fact conditions. Absent: no node facts are read.
   */
  hostRoot?: string;
  /** How often node facts are read (default 60 s). */
  factsIntervalMs?: number;
}

const MAX_BACKOFF_MS = 5 * 60_000;

/** calico-node, then every other container the advisories name, once each. */
export function watchedContainers(advisories: readonly Advisory[]): string[] {
  return [...new Set(["calico-node", ...advisories.map((a) => a.component.container)])];
}

export class NodeAgent {
  readonly metrics: AgentMetrics = agentMetrics();
  private readonly set: SignatureSet;
  private readonly now: () => number;
  private readonly watched: WatchedAdvisory[];
  private readonly conditions: ConditionReporter | undefined;
  private readonly events: EventRecorder | undefined;
  private tailer: Tailer | undefined;
  private checkpoint: AgentCheckpoint | undefined;
  private kubeStarted = false;
  private kubeRetryAt = 0;
  private kubeBackoff = 0;
  private lastTickAt = Number.NEGATIVE_INFINITY;
  private readonly lastLogged = new Map<string, string>();
  private readonly factsReader: NodeFactsReader | undefined;
  private readonly corroborating: { advisory: string; conditions: AgentFactCondition[] }[];
  private lastFactsAt = Number.NEGATIVE_INFINITY;
  private readonly kernelConditionIds: string[];
  /** The latest node facts (also written to node-facts.json in the state directory). */
  nodeFacts: AgentNodeFacts | undefined;

  constructor(private readonly opts: AgentOptions) {
    this.now = opts.now ?? Date.now;
    this.set = compileSignatures([...opts.advisories]);
    this.corroborating = opts.advisories
      .map((a) => ({ advisory: a.id, conditions: corroboratingAgentFacts(a) }))
      .filter((c) => c.conditions.length > 0);
    const kernelConditions = kernelLogConditions(opts.advisories);
    this.kernelConditionIds = kernelConditions.map((c) => c.id);
    this.factsReader =
      opts.hostRoot !== undefined && needsNodeFacts(opts.advisories)
        ? new NodeFactsReader(opts.node, { hostRoot: opts.hostRoot, kernelConditions })
        : undefined;
    // An advisory is watched when a log symptom or, with node facts read, a node fact can show it.
    this.watched = opts.advisories
      .filter(
        (a) =>
          a.signatures.some((s) => s.role === "symptom") ||
          (this.factsReader !== undefined && this.corroborating.some((c) => c.advisory === a.id)),
      )
      .map((a) => ({
        id: a.id,
        title: a.title,
        conditionType: conditionTypeFor(a),
        container: a.component.container,
        ...(this.factsReader !== undefined && this.corroborating.some((c) => c.advisory === a.id)
          ? { nodeFacts: true }
          : {}),
      }));
    if (opts.api) {
      const common = { api: opts.api, node: opts.node, now: this.now };
      this.conditions = new ConditionReporter({
        ...common,
        advisories: this.watched,
        clearAfterMs: opts.clearAfterMs,
        firstWriteJitterMs: opts.firstWriteJitterMs,
        random: opts.random ?? Math.random,
      });
      this.events = new EventRecorder({ ...common, intervalMs: opts.eventIntervalMs });
    }
    const node = opts.node;
    for (const a of opts.advisories) {
      for (const s of a.signatures) this.metrics.matches.init({ advisory: a.id, signature: s.id, node });
    }
    if (this.factsReader)
      for (const c of this.corroborating)
        for (const f of c.conditions)
          this.metrics.matches.init({ advisory: c.advisory, signature: f.id, node });
    for (const w of this.watched) this.metrics.symptomActive.set({ advisory: w.id, node }, 0);
    this.metrics.bytesRead.init({ node });
    this.metrics.linesRead.init({ node });
    this.metrics.up.set({ node }, 0);
    this.metrics.filesTracked.set({ node }, 0);
    for (const kind of ["logs", "checkpoint", "kube"]) this.metrics.errors.init({ node, kind });
  }

  /** Loads the checkpoint and prepares the tailer; the API is contacted on the first tick. */
  async start(): Promise<void> {
    const loaded = await loadCheckpoint(this.opts.stateDir, this.opts.node);
    if (loaded.problem !== undefined) {
      this.error("checkpoint", loaded.problem);
    }
    this.checkpoint = loaded.checkpoint;
    for (const w of this.watched) {
      const last = this.checkpoint.advisories[w.id]?.lastSymptomAt;
      if (last !== undefined) this.conditions?.noteSymptom(w.id, last);
    }
    this.tailer = new Tailer({
      roots: this.opts.roots,
      containers: watchedContainers(this.opts.advisories),
      files: this.checkpoint.files,
      sinkFor: () => new LogScanner(this.set, { sampleLimit: 0, onMatch: (m) => this.onMatch(m) }),
      now: this.now,
    });
    this.opts.log(
      `agent started on node ${this.opts.node}: ${this.set.signatures.length} signatures of ${this.opts.advisories.length} advisories, roots ${this.opts.roots.join(", ")}, ${loaded.checkpoint.files.length} files in the checkpoint${this.opts.api ? "" : ", metrics only"}`,
    );
  }

  /** True while passes keep completing (the /healthz answer). */
  healthy(): boolean {
    return this.now() - this.lastTickAt < 3 * this.opts.pollMs + 30_000;
  }

  private error(kind: "logs" | "checkpoint" | "kube", message: string): void {
    this.metrics.errors.inc({ node: this.opts.node, kind });
    // The same problem every second would flood the agent's own log: say it when it changes.
    if (this.lastLogged.get(kind) !== message) this.opts.log(`${kind} problem: ${message}`);
    this.lastLogged.set(kind, message);
  }

  private onMatch(m: SignatureMatch): void {
    const node = this.opts.node;
    const now = this.now();
    const at = Math.min(m.time ?? now, now);
    const labels = { advisory: m.advisoryId, signature: m.signatureId, node };
    this.metrics.matches.inc(labels);
    const prev = this.metrics.lastMatch.get(labels);
    if (prev === undefined || at / 1000 > prev) this.metrics.lastMatch.set(labels, at / 1000);
    if (m.role !== "symptom") return;
    this.symptomAt(
      m.advisoryId,
      at,
      `${m.advisoryId}: ${this.watched.find((w) => w.id === m.advisoryId)?.container ?? "calico-node"} log record matched ${m.signatureId} (symptom) on node ${node}; see 'cnidoctor advisories show ${m.advisoryId}'.`,
    );
  }

  /**
   * A symptom (log record or node fact) of an advisory at `at`: checkpoint, condition, Event.
   * `seen` words a node fact for the condition; a log record gets the condition's own wording.
   */
  private symptomAt(advisoryId: string, at: number, message: string, seen?: string): void {
    if (this.checkpoint) {
      const entry = (this.checkpoint.advisories[advisoryId] ??= {});
      if (entry.lastSymptomAt === undefined || at > entry.lastSymptomAt) entry.lastSymptomAt = at;
    }
    this.conditions?.noteSymptom(advisoryId, at, seen);
    // A match read from an old backlog is history: it counts, but it is not news for an Event.
    if (this.now() - at < this.opts.clearAfterMs) {
      const type =
        this.watched.find((w) => w.id === advisoryId)?.conditionType ?? conditionTypeFor({ id: advisoryId });
      this.events?.observe(advisoryId, type, message);
    }
  }

  /**
   * Reads the node facts when due and judges each advisory's corroborating fact conditions on
   * them: one that holds counts like a symptom signature (the counter, labelled with the condition
   * id) and sets the advisory's Node condition.
   */
  private async readNodeFacts(): Promise<void> {
    const reader = this.factsReader;
    const now = this.now();
    if (!reader || now - this.lastFactsAt < (this.opts.factsIntervalMs ?? 60_000)) return;
    this.lastFactsAt = now;
    const facts = await reader.read(new Date(now));
    this.nodeFacts = facts;
    this.exportNodeFacts(facts);
    const node = this.opts.node;
    for (const c of this.corroborating)
      for (const cond of c.conditions) {
        const r = evaluateFactCondition(cond, {
          node,
          nodeFacts: undefined,
          container: undefined,
          felixConfigurations: undefined,
          agent: facts,
          mode: "agent",
        });
        if (r.holds !== true) continue;
        const count = cond.fact === "nicDriver" ? 1 : Math.max(1, Number(r.value ?? 1));
        const labels = { advisory: c.advisory, signature: cond.id, node };
        this.metrics.matches.inc(labels, count);
        this.metrics.lastMatch.set(labels, now / 1000);
        this.symptomAt(
          c.advisory,
          now,
          `${c.advisory}: node fact ${cond.id} on node ${node}: ${r.message}.`,
          `the node fact ${cond.id} held (${r.message})`,
        );
      }
    const path = join(this.opts.stateDir, "node-facts.json");
    try {
      await writeFile(`${path}.tmp`, `${JSON.stringify({ items: [facts] }, null, 2)}\n`);
      await rename(`${path}.tmp`, path);
    } catch (e) {
      this.error("checkpoint", `${path}: ${(e as Error).message}`);
    }
  }

  /**
   * The raw node facts as series, so a scan can read them back from Prometheus: whether each fact
   * was read, the default-route NIC as an info series, the kernel's UDP checksum error counter as
   * read, and kernel log matches counted by condition id.
   */
  private exportNodeFacts(facts: AgentNodeFacts): void {
    const node = this.opts.node;
    const m = this.metrics;
    const read = (fact: keyof typeof FACT_LABEL, ok: boolean): void =>
      m.factRead.set({ node, fact: FACT_LABEL[fact] }, ok ? 1 : 0);
    m.nicInfo.clear();
    const nic = facts.nicDriver;
    if (nic !== undefined) m.nicInfo.set({ node, interface: nic.interface ?? "", driver: nic.value }, 1);
    read("nicDriver", nic !== undefined);
    const csum = facts.udpInCsumErrors;
    if (csum !== undefined) m.udpInCsumErrors.mirror({ node }, csum.last);
    read("udpInCsumErrorsRising", csum !== undefined);
    if (this.kernelConditionIds.length === 0) return;
    const k = facts.kernelLog;
    // inc by 0 too: the series exists from the first good reading, so increase() has a start.
    if (k !== undefined)
      for (const id of this.kernelConditionIds)
        m.kernelLogMatches.inc({ node, condition: id }, k.matches?.[id] ?? 0);
    read("kernelLog", k !== undefined);
  }

  /** One pass over the logs, then the checkpoint and the API writes it calls for. */
  async tick(): Promise<void> {
    const tailer = this.tailer;
    if (!tailer) throw new Error("agent not started");
    const node = this.opts.node;
    const result = await tailer.poll();
    this.metrics.bytesRead.inc({ node }, result.bytes);
    this.metrics.linesRead.inc({ node }, result.lines);
    this.metrics.filesTracked.set({ node }, tailer.filesTracked);
    for (const p of result.problems) this.error("logs", p);
    this.metrics.up.set({ node }, result.problems.length === 0 ? 1 : 0);
    await this.readNodeFacts();
    await this.saveIfChanged();
    await this.kubeWork();
    for (const w of this.watched) {
      this.metrics.symptomActive.set({ advisory: w.id, node }, this.isActive(w.id) ? 1 : 0);
    }
    this.lastTickAt = this.now();
  }

  private isActive(id: string): boolean {
    if (this.conditions) return this.conditions.active(id);
    const last = this.checkpoint?.advisories[id]?.lastSymptomAt;
    return last !== undefined && this.now() - last < this.opts.clearAfterMs;
  }

  private async saveIfChanged(force = false): Promise<void> {
    const tailer = this.tailer;
    const checkpoint = this.checkpoint;
    if (!tailer || !checkpoint) return;
    if (!tailer.takeChanged() && !force) return;
    checkpoint.files = tailer.checkpointFiles();
    try {
      await saveCheckpoint(this.opts.stateDir, checkpoint);
    } catch (e) {
      this.error("checkpoint", `${this.opts.stateDir}: ${(e as Error).message}`);
    }
  }

  private async kubeWork(): Promise<void> {
    const conditions = this.conditions;
    const events = this.events;
    if (!conditions || !events) return;
    const now = this.now();
    if (now < this.kubeRetryAt) return;
    const node = this.opts.node;
    try {
      if (!this.kubeStarted) {
        const last: Record<string, number | undefined> = {};
        for (const w of this.watched) last[w.id] = conditions.lastSymptomAt(w.id);
        await conditions.start(last);
        events.nodeUid = conditions.nodeUid;
        this.kubeStarted = true;
      }
      for (const t of await conditions.reconcile()) {
        this.metrics.apiWrites.inc({ node, kind: "node-status" });
        this.opts.log(
          `${t.advisory.conditionType} on ${node}: ${t.previous ?? "absent"} -> ${t.status} (${t.reason})`,
        );
        if (t.previous !== undefined || t.status === "True") {
          await events.transition(t);
          this.metrics.apiWrites.inc({ node, kind: "event" });
        }
      }
      const writes = await events.flush();
      if (writes > 0) this.metrics.apiWrites.inc({ node, kind: "event" }, writes);
      this.kubeBackoff = 0;
    } catch (e) {
      this.kubeBackoff = Math.min(MAX_BACKOFF_MS, this.kubeBackoff === 0 ? 1000 : this.kubeBackoff * 2);
      this.kubeRetryAt = now + this.kubeBackoff;
      this.error("kube", (e as Error).message);
    }
  }

  /** Reads what is left, flushes every record, writes the checkpoint and the last API changes. */
  async stop(): Promise<void> {
    await this.tailer?.close();
    await this.saveIfChanged(true);
    await this.kubeWork();
  }

  /** Ticks every pollMs until `signal` aborts, then stops cleanly. */
  async run(signal: AbortSignal): Promise<void> {
    await this.start();
    while (!signal.aborted) {
      try {
        await this.tick();
      } catch (e) {
        this.metrics.up.set({ node: this.opts.node }, 0);
        this.error("logs", (e as Error).message);
      }
      await sleep(this.opts.pollMs, signal);
    }
    await this.stop();
    this.opts.log(`agent on node ${this.opts.node} stopped`);
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) {
      resolve();
      return;
    }
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}
