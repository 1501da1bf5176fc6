// The executor: every effect goes through one StepHandler interface that can tell whether its
// change is already in place, rehearse it (server-side dry-run, preconditions), record a backup
// before changing anything, apply it, and undo it from the backup. applyPlan and rollback are the
// only two ways in; neither prints, the caller renders their results.

import type { Plan, Step, StepKind } from "../model/plan.js";
import { BackupSession, type BackupEntry } from "./backup-store.js";
import type { Release } from "./lock.js";

export interface StepHandler {
  readonly kinds: readonly StepKind[];
  /**
   * Takes the handler's lock on what the step changes, held from inspection to the write (and, in
   * rollback, across the undo), so two cnidoctor runs never interleave on one target.
   */
  lock?(target: Step | BackupEntry): Promise<Release | undefined>;
  /** "applied" when the live state already has the change (re-running apply is a no-op). */
  inspect(step: Step): Promise<"applied" | "pending">;
  /** Rehearses the change without making it; throws with the reason it would fail. */
  rehearse(step: Step): Promise<void>;
  /** Captures what undo needs, into the session's blobs; returns the manifest entry. */
  backup(step: Step, session: BackupSession): Promise<BackupEntry>;
  /**
   * Makes the change, refusing when the target moved on since the backup; records what it left
   * (into `entry`, saved by the caller) so rollback can tell later changes apart. One line back.
   */
  apply(step: Step, entry: BackupEntry, session: BackupSession): Promise<string>;
  /**
   * Why undoing `entry` would destroy something apply did not write (the target changed since),
   * with a diff; undefined when undo is safe.
   */
  conflict(entry: BackupEntry, session: BackupSession): Promise<string | undefined>;
  /** Restores the state recorded in `entry`; returns one line saying what was done. */
  undo(entry: BackupEntry, session: BackupSession): Promise<string>;
}

/** Takes every lock the steps need, in a stable order; all or none. */
async function lockAll(targets: { handler: StepHandler; item: Step | BackupEntry }[]): Promise<Release> {
  const held: Release[] = [];
  const releaseAll = async (): Promise<void> => {
    for (const r of held.reverse()) await r();
  };
  try {
    for (const t of targets) {
      const r = await t.handler.lock?.(t.item);
      if (r !== undefined) held.push(r);
    }
  } catch (e) {
    await releaseAll();
    throw e;
  }
  return releaseAll;
}

export interface StepOutcome {
  stepId: string;
  result: "applied" | "already-applied" | "manual" | "failed" | "not-run";
  detail: string;
}

export interface ApplyResult {
  /** Set when anything was backed up (i.e. a change was attempted). */
  backupId?: string;
  outcomes: StepOutcome[];
  /** The first failure, when the apply stopped early; everything before it is in the backup. */
  failure?: { stepId: string; message: string };
}

export class ApplyError extends Error {}

function handlerFor(handlers: readonly StepHandler[], kind: StepKind): StepHandler {
  const h = handlers.find((x) => x.kinds.includes(kind));
  if (!h) throw new ApplyError(`no executor for step kind ${kind}`);
  return h;
}

/** The steps apply runs: those named in `only`, else the plan's default ones. Manual steps are kept to be reported. */
export function selectSteps(plan: Plan, only: readonly string[] | undefined): Step[] {
  if (only === undefined || only.length === 0) return plan.steps.filter((s) => s.default);
  const unknown = only.filter((id) => !plan.steps.some((s) => s.id === id));
  if (unknown.length > 0)
    throw new ApplyError(
      `no step ${unknown.join(", ")} in the plan (steps: ${plan.steps.map((s) => s.id).join(", ")})`,
    );
  return plan.steps.filter((s) => only.includes(s.id));
}

function errorText(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  // API client errors carry the apiserver's Status as a JSON body; its message is the useful line.
  const body = (e as { body?: unknown }).body;
  if (typeof body === "string") {
    try {
      const m = (JSON.parse(body) as { message?: unknown }).message;
      if (typeof m === "string") return m;
    } catch {
      // not JSON: fall through to the error's own first line
    }
  }
  return e.message.split("\n")[0] ?? "";
}

interface Pending {
  step: Step;
  handler: StepHandler;
}

async function triage(
  steps: Step[],
  handlers: readonly StepHandler[],
  outcomes: StepOutcome[],
): Promise<Pending[]> {
  const pending: Pending[] = [];
  for (const step of steps) {
    if (step.kind === "manual") {
      outcomes.push({
        stepId: step.id,
        result: "manual",
        detail: "shown in the plan; cnidoctor does not execute it",
      });
      continue;
    }
    const handler = handlerFor(handlers, step.kind);
    if ((await handler.inspect(step)) === "applied") {
      outcomes.push({
        stepId: step.id,
        result: "already-applied",
        detail: "already in place; nothing to do",
      });
      continue;
    }
    pending.push({ step, handler });
  }
  return pending;
}

export interface ApplyOptions {
  stateDir: string;
  handlers: readonly StepHandler[];
  only?: readonly string[];
  now: Date;
  /** Called after each step with its outcome (progress for people). */
  onStep?: (o: StepOutcome) => void;
}

export async function applyPlan(plan: Plan, opts: ApplyOptions): Promise<ApplyResult> {
  const steps = selectSteps(plan, opts.only);
  const release = await lockAll(
    steps
      .filter((s) => s.kind !== "manual")
      .map((s) => ({ handler: handlerFor(opts.handlers, s.kind), item: s })),
  ).catch((e: unknown) => {
    throw new ApplyError(errorText(e));
  });
  try {
    return await applyLocked(plan, steps, opts);
  } finally {
    await release();
  }
}

async function applyLocked(plan: Plan, steps: Step[], opts: ApplyOptions): Promise<ApplyResult> {
  const outcomes: StepOutcome[] = [];
  const pending = await triage(steps, opts.handlers, outcomes);
  if (pending.length === 0) return { outcomes };
  // Rehearse everything before the first change: a step that would fail stops the run here, with
  // nothing changed and nothing backed up.
  for (const p of pending) await p.handler.rehearse(p.step);
  const session = await BackupSession.create({
    stateDir: opts.stateDir,
    advisoryId: plan.advisoryId,
    target: plan.inputs,
    now: opts.now,
  });
  for (const p of pending) await session.audit({ step: p.step.id, action: "dry-run", result: "ok" });
  for (const [k, p] of pending.entries()) {
    let entry: BackupEntry | undefined;
    try {
      entry = await p.handler.backup(p.step, session);
      await session.record(entry);
      await session.audit({ step: p.step.id, action: "backup", result: entry.note ?? "saved" });
      const detail = await p.handler.apply(p.step, entry, session);
      await session.setState(p.step.id, "applied");
      await session.audit({ step: p.step.id, action: "apply", result: detail });
      const o: StepOutcome = { stepId: p.step.id, result: "applied", detail };
      outcomes.push(o);
      opts.onStep?.(o);
    } catch (e) {
      const message = errorText(e);
      if (entry !== undefined) await session.setState(p.step.id, "failed");
      await session.audit({ step: p.step.id, action: "fail", result: message });
      session.manifest.status = "failed";
      await session.save();
      outcomes.push({ stepId: p.step.id, result: "failed", detail: message });
      for (const rest of pending.slice(k + 1))
        outcomes.push({ stepId: rest.step.id, result: "not-run", detail: "stopped after the failure above" });
      return { backupId: session.id, outcomes, failure: { stepId: p.step.id, message } };
    }
  }
  session.manifest.status = "complete";
  await session.save();
  return { backupId: session.id, outcomes };
}

export interface RollbackResult {
  backupId: string;
  restored: { stepId: string; detail: string }[];
  failures: { stepId: string; message: string }[];
  /** Targets changed since apply: nothing was restored when any is listed (unless forced). */
  conflicts: { stepId: string; message: string }[];
}

export interface RollbackOptions {
  /** Restore even over changes made after apply (each one is still listed in `conflicts`). */
  force?: boolean;
}

/**
 * Undoes every recorded entry, newest first; entries already rolled back are skipped. Every
 * target is checked first: one changed since apply stops the whole rollback before it restores
 * anything, unless forced.
 */
export async function rollback(
  stateDir: string,
  id: string,
  handlers: readonly StepHandler[],
  opts: RollbackOptions = {},
): Promise<RollbackResult> {
  const session = await BackupSession.open(stateDir, id);
  const todo = [...session.manifest.entries].reverse().filter((e) => e.state !== "rolled-back");
  const release = await lockAll(todo.map((e) => ({ handler: handlerFor(handlers, e.kind), item: e })));
  try {
    return await rollbackLocked(session, todo, handlers, opts);
  } finally {
    await release();
  }
}

async function rollbackLocked(
  session: BackupSession,
  todo: BackupEntry[],
  handlers: readonly StepHandler[],
  opts: RollbackOptions,
): Promise<RollbackResult> {
  const result: RollbackResult = { backupId: session.id, restored: [], failures: [], conflicts: [] };
  for (const entry of todo) {
    const message = await handlerFor(handlers, entry.kind).conflict(entry, session);
    if (message !== undefined) result.conflicts.push({ stepId: entry.stepId, message });
  }
  if (result.conflicts.length > 0) {
    for (const c of result.conflicts)
      await session.audit({
        step: c.stepId,
        action: "conflict",
        result: `${opts.force === true ? "overridden with --force: " : ""}${c.message.split("\n")[0] ?? ""}`,
      });
    if (opts.force !== true) return result;
  }
  for (const entry of todo) {
    try {
      const detail = await handlerFor(handlers, entry.kind).undo(entry, session);
      await session.setState(entry.stepId, "rolled-back");
      await session.audit({ step: entry.stepId, action: "rollback", result: detail });
      result.restored.push({ stepId: entry.stepId, detail });
    } catch (e) {
      await session.audit({ step: entry.stepId, action: "fail", result: `rollback: ${errorText(e)}` });
      result.failures.push({ stepId: entry.stepId, message: errorText(e) });
    }
  }
  session.manifest.status = result.failures.length === 0 ? "rolled-back" : "rollback-failed";
  await session.save();
  return result;
}
