// Runs the built CLI as a child process with a hard deadline, optionally under the fs-fault hook.

import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";

export const BIN = fileURLToPath(new URL("../../../src/cli/bin.js", import.meta.url));
const HOOK = fileURLToPath(new URL("./fs-fault.js", import.meta.url));
export const REPO = fileURLToPath(new URL("../../../../", import.meta.url));

export interface Fault {
  /** Only calls under this directory count. */
  scope: string;
  at?: number;
  action?: "kill" | "edit";
  editFile?: string;
  editText?: string;
  log?: string;
}

export interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export function cnidoctor(
  args: string[],
  opts: { cwd: string; env?: NodeJS.ProcessEnv; fault?: Fault; deadlineMs?: number },
): Promise<Run> {
  const f = opts.fault;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    KUBECONFIG: "",
    ...opts.env,
    ...(f
      ? {
          FSFAULT_SCOPE: f.scope,
          FSFAULT_ACTION: f.action ?? "kill",
          ...(f.at !== undefined ? { FSFAULT_AT: String(f.at) } : {}),
          ...(f.editFile !== undefined ? { FSFAULT_EDIT_FILE: f.editFile } : {}),
          ...(f.editText !== undefined ? { FSFAULT_EDIT_TEXT: f.editText } : {}),
          ...(f.log !== undefined ? { FSFAULT_LOG: f.log } : {}),
        }
      : {}),
  };
  const argv = [...(f ? ["--import", HOOK] : []), BIN, ...args];
  return new Promise((resolve, reject) => {
    const child = execFile(
      process.execPath,
      argv,
      { cwd: opts.cwd, env, timeout: opts.deadlineMs ?? 30_000, killSignal: "SIGKILL", maxBuffer: 1 << 24 },
      (err, stdout, stderr) => {
        const e = err as (Error & { code?: unknown; killed?: boolean }) | null;
        if (e?.killed === true && child.signalCode === "SIGKILL" && f?.at === undefined)
          reject(
            new Error(`cnidoctor ${args.join(" ")}: deadline of ${opts.deadlineMs ?? 30_000} ms passed`),
          );
        resolve({ code: child.exitCode, signal: child.signalCode, stdout, stderr });
      },
    );
  });
}

/** The fs calls a fault-free run makes in scope, one "op path" per line. */
export async function callLog(path: string): Promise<string[]> {
  return (await readFile(path, "utf8")).split("\n").filter((l) => l !== "");
}

/**
 * Which call numbers a kill sweep with real processes visits, at most `max` (each costs seconds of
 * start-up here; every call is visited in-process by every-call.test.ts): the first call, the
 * renames that swap a file or directory into place (what a reader sees changes there), calls
 * spread over the run so each phase is covered, and one past the end — a run that finishes before
 * call N is the end of the sweep, not a failure.
 */
export function sweepPoints(calls: readonly string[], max = 4): number[] {
  const swaps: number[] = [];
  calls.forEach((c, k) => {
    if (/^rename .*cnidoctor-(tmp|new)/.test(c)) swaps.push(k + 1);
  });
  const points = new Set<number>([1, calls.length + 1, ...swaps.slice(0, Math.max(1, max - 3))]);
  for (let k = 1; points.size < max && k < calls.length; k++)
    points.add(Math.round((k * calls.length) / Math.max(2, max - points.size + 1)));
  return [...points].sort((a, b) => a - b).slice(0, max + 1);
}

/** Runs `fn` over `items`, `width` at a time (the suite must stay cheap on two busy cores). */
export async function inBatches<T>(
  items: readonly T[],
  width: number,
  fn: (t: T) => Promise<void>,
): Promise<void> {
  for (let k = 0; k < items.length; k += width) await Promise.all(items.slice(k, k + width).map(fn));
}
