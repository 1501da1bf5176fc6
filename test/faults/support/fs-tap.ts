// The in-process twin of fs-fault.ts, for sweeps that visit every file-system call: a child
// process per call costs seconds of start-up on a busy machine, a call here costs milliseconds.
// It wraps node:fs/promises (and the methods of file handles opened through it) for paths under
// one directory and, at call N, either freezes the run — that call and every later one in scope
// never settle, which leaves the disk exactly as a SIGKILL before call N would — or lets a
// stand-in editor append to a file first. Afterwards the frozen run's handles are closed and the
// locks it held are made to name a dead process, as a killed run's would.

import { AsyncLocalStorage } from "node:async_hooks";
import { spawnSync } from "node:child_process";
import { appendFileSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import type { FileHandle } from "node:fs/promises";
import { createRequire, syncBuiltinESMExports } from "node:module";
import { join } from "node:path";

type AnyFn = (...args: unknown[]) => unknown;
type Table = Record<string, unknown>;

export type TapAction =
  | { kind: "count" }
  | { kind: "freeze"; at: number }
  | { kind: "edit"; at: number; file: string; text: string };

interface State {
  scope: string;
  action: TapAction;
  calls: string[];
  frozen: boolean;
  onFreeze?: () => void;
  handles: Set<FileHandle>;
}

// Each run carries its own state through its async continuations, so a frozen run stays frozen
// while the next run (a rollback of what it left) works in the same directory.
const runs = new AsyncLocalStorage<State>();
const scoped = new WeakSet<object>();
let originalClose: ((this: FileHandle) => Promise<void>) | undefined;

function pathOf(a: unknown): string | undefined {
  if (typeof a === "string") return a;
  if (a instanceof URL) return a.pathname;
  if (Buffer.isBuffer(a)) return a.toString();
  return undefined;
}

const never = (): Promise<never> => new Promise<never>(() => undefined);

/** Counts one call; true when it must not happen (the run is frozen from here on). */
function hit(s: State, what: string): boolean {
  if (s.frozen) return true;
  s.calls.push(what);
  const n = s.calls.length;
  if (s.action.kind === "freeze" && n === s.action.at) {
    s.frozen = true;
    s.onFreeze?.();
    return true;
  }
  if (s.action.kind === "edit" && n === s.action.at) appendFileSync(s.action.file, s.action.text);
  return false;
}

let installed = false;

function install(): void {
  if (installed) return;
  installed = true;
  const require = createRequire(import.meta.url);
  const fsp = require("node:fs/promises") as Table;
  const ops = [
    "access",
    "appendFile",
    "chmod",
    "chown",
    "copyFile",
    "link",
    "lstat",
    "mkdir",
    "open",
    "readFile",
    "readdir",
    "readlink",
    "realpath",
    "rename",
    "rm",
    "rmdir",
    "stat",
    "symlink",
    "unlink",
    "writeFile",
  ];
  for (const op of ops) {
    const fn = fsp[op] as AnyFn | undefined;
    if (typeof fn !== "function") continue;
    fsp[op] = function (this: unknown, ...args: unknown[]): unknown {
      const s = runs.getStore();
      const p = pathOf(args[0]);
      const q = pathOf(args[1]);
      const inScope = s !== undefined && [p, q].some((x) => x?.startsWith(s.scope) === true);
      if (!inScope) return fn.apply(this, args);
      if (hit(s, `${op} ${p ?? ""}`)) return never();
      const r = fn.apply(this, args);
      if (op !== "open") return r;
      return (r as Promise<FileHandle>).then((h) => {
        scoped.add(h);
        s.handles.add(h);
        return h;
      });
    };
  }
  syncBuiltinESMExports();
}

/** Patches FileHandle's prototype once a handle exists to reach it through. */
async function installHandleMethods(): Promise<void> {
  if (originalClose !== undefined) return;
  const { open } = await import("node:fs/promises");
  const probe = await open(process.execPath, "r");
  const proto = Object.getPrototypeOf(probe) as Table;
  await probe.close();
  originalClose = proto.close as (this: FileHandle) => Promise<void>;
  for (const op of [
    "writeFile",
    "write",
    "sync",
    "datasync",
    "chmod",
    "chown",
    "stat",
    "readFile",
    "close",
  ]) {
    const fn = proto[op] as AnyFn | undefined;
    if (typeof fn !== "function") continue;
    proto[op] = function (this: object, ...args: unknown[]): unknown {
      const s = runs.getStore();
      if (s === undefined || !scoped.has(this)) return fn.apply(this, args);
      if (hit(s, `handle.${op}`)) return never();
      if (op === "close") s.handles.delete(this as FileHandle);
      return fn.apply(this, args);
    };
  }
}

function locksUnder(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...locksUnder(p));
    else if (e.isFile() && e.name.endsWith(".cnidoctor.lock")) out.push(p);
  }
  return out;
}

let deadPid: number | undefined;

/** A PID that belonged to a process which has exited (a finished `true`). */
function aDeadPid(): number {
  deadPid ??= spawnSync("true").pid ?? 0x3fffff;
  return deadPid;
}

export interface TapResult<T> {
  calls: string[];
  /** The run stopped at the freeze point; the state it left is what a SIGKILL would leave. */
  frozen: boolean;
  value?: T;
  error?: unknown;
}

/** Runs `fn` with the file-system calls under `scope` counted and the fault applied. */
export async function underTap<T>(
  scope: string,
  action: TapAction,
  fn: () => Promise<T>,
): Promise<TapResult<T>> {
  install();
  await installHandleMethods();
  let signal: () => void = () => undefined;
  const frozen = new Promise<"frozen">((r) => (signal = () => r("frozen")));
  const s: State = { scope, action, calls: [], frozen: false, onFreeze: () => signal(), handles: new Set() };
  {
    const run = runs.run(s, fn).then(
      (value) => ({ value }),
      (error: unknown) => ({ error }),
    );
    const first = await Promise.race([run, frozen]);
    if (first === "frozen") {
      // Let what was already under way settle: a kill does not undo system calls in flight.
      for (let k = 0; k < 20; k++) await new Promise((r) => setImmediate(r));
      for (const h of s.handles) await originalClose?.call(h).catch(() => undefined);
      for (const lock of locksUnder(scope)) {
        const text = readFileSync(lock, "utf8");
        const holder = JSON.parse(text) as { pid?: number };
        if (holder.pid === process.pid) writeFileSync(lock, JSON.stringify({ ...holder, pid: aDeadPid() }));
      }
      return { calls: s.calls, frozen: true };
    }
    return { calls: s.calls, frozen: false, ...first };
  }
}
