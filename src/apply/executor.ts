// The executor: every effect goes through one StepHandler interface that can tell whether its
// change is already in place, rehearse it (server-side dry-run, preconditions), record a backup
// before changing anything, apply it, and undo it from the backup. applyPlan and rollback are the
// only two ways in; neither prints, the caller renders their results.

import type { Plan, Step, StepKind } from "../model/plan.js";
import { BackupSession, type BackupEntry } from "./backup-store.js";

export interface StepHandler {
  readonly kinds: readonly StepKind[];
  /** "applied" when the live state already has the change (re-running apply is a no-op). */
  inspect(step: Step): Promise<"applied" | "pending">;
  /** Rehearses the change without making it; throws with the reason it would fail. */
  rehearse(step: Step): Promise<void>;
  /** Captures what undo needs, into the session's blobs; returns the manifest entry. */
  backup(step: Step, session: BackupSession): Promise<BackupEntry>;
  /** Makes the change; returns one line saying what was done. */
  apply(step: Step, entry: BackupEntry): Promise<string>;
  /** Restores the state recorded in `entry`; returns one line saying what was done. */
  undo(entry: BackupEntry, session: BackupSession): Promise<string>;
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
  const outcomes: StepOutcome[] = [];
  const pending = await triage(selectSteps(plan, opts.only), opts.handlers, outcomes);
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
      const detail = await p.handler.apply(p.step, entry);
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
}

/** Undoes every recorded entry, newest first; entries already rolled back are skipped. */
export async function rollback(
  stateDir: string,
  id: string,
  handlers: readonly StepHandler[],
): Promise<RollbackResult> {
  const session = await BackupSession.open(stateDir, id);
  const result: RollbackResult = { backupId: id, restored: [], failures: [] };
  for (const entry of [...session.manifest.entries].reverse()) {
    if (entry.state === "rolled-back") continue;
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
