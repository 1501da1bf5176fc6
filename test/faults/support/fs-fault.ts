// An `--import` hook for fault tests: counts the file-system calls a cnidoctor run makes under one
// directory and, at call N, either SIGKILLs the process (just before the call happens) or lets a
// stand-in "editor" append to a file (an edit landing at that exact moment). Without N it only
// counts, and writes the list of calls to FSFAULT_LOG when the process exits, so a test can size
// its sweep. Environment: FSFAULT_SCOPE (directory), FSFAULT_AT (N), FSFAULT_ACTION (kill|edit),
// FSFAULT_EDIT_FILE, FSFAULT_EDIT_TEXT, FSFAULT_LOG.

import { createRequire, syncBuiltinESMExports } from "node:module";

type AnyFn = (...args: unknown[]) => unknown;
type Table = Record<string, unknown>;

const require = createRequire(import.meta.url);
const fs = require("node:fs") as Table & { promises: Table };
const fsp = fs.promises;

const env = process.env;
const scope = env.FSFAULT_SCOPE ?? "";
const at = env.FSFAULT_AT !== undefined ? Number(env.FSFAULT_AT) : undefined;
const action = env.FSFAULT_ACTION ?? "kill";
const appendFileSync = fs.appendFileSync as (p: string, d: string) => void;
const writeFileSync = fs.writeFileSync as (p: string, d: string) => void;

const calls: string[] = [];
const scopedHandles = new WeakSet<object>();

function pathOf(a: unknown): string | undefined {
  if (typeof a === "string") return a;
  if (a instanceof URL) return a.pathname;
  if (Buffer.isBuffer(a)) return a.toString();
  return undefined;
}

function inScope(args: unknown[]): boolean {
  if (scope === "") return false;
  return args.slice(0, 2).some((a) => pathOf(a)?.startsWith(scope) === true);
}

function hit(op: string, where: string): void {
  calls.push(`${op} ${where}`);
  if (at === undefined || calls.length !== at) return;
  if (action === "kill") process.kill(process.pid, "SIGKILL");
  else if (env.FSFAULT_EDIT_FILE !== undefined)
    appendFileSync(env.FSFAULT_EDIT_FILE, env.FSFAULT_EDIT_TEXT ?? "# edited meanwhile\n");
}

function wrap(table: Table, name: string, onResult?: (r: unknown) => unknown): void {
  const original = table[name];
  if (typeof original !== "function") return;
  const fn = original as AnyFn;
  table[name] = function (this: unknown, ...args: unknown[]): unknown {
    if (inScope(args)) {
      hit(name, String(pathOf(args[0])));
      const r = fn.apply(this, args);
      return onResult ? onResult(r) : r;
    }
    return fn.apply(this, args);
  };
}

const pathOps = [
  "readFile",
  "writeFile",
  "appendFile",
  "rename",
  "rm",
  "unlink",
  "mkdir",
  "stat",
  "lstat",
  "realpath",
  "link",
  "readdir",
  "rmdir",
  "copyFile",
  "chmod",
  "chown",
];
for (const op of pathOps) wrap(fsp, op);
for (const op of pathOps) wrap(fs, op); // callback forms (streams open files through fs.open)
wrap(fs, "open");
wrap(fsp, "open", (r) =>
  (r as Promise<object>).then((h) => {
    scopedHandles.add(h);
    return h;
  }),
);

// Calls on a FileHandle opened in scope count too (write, fsync, chown, close).
const probe = (await (fsp.open as AnyFn)(process.execPath, "r")) as { close(): Promise<void> };
const proto = Object.getPrototypeOf(probe) as Table;
await probe.close();
for (const op of ["writeFile", "write", "sync", "datasync", "chmod", "chown", "stat", "close", "readFile"]) {
  const original = proto[op];
  if (typeof original !== "function") continue;
  const fn = original as AnyFn;
  proto[op] = function (this: object, ...args: unknown[]): unknown {
    if (scopedHandles.has(this)) hit(`handle.${op}`, "");
    return fn.apply(this, args);
  };
}
syncBuiltinESMExports();

if (env.FSFAULT_LOG !== undefined) {
  const log = env.FSFAULT_LOG;
  process.on("exit", () => writeFileSync(log, calls.map((c) => `${c}\n`).join("")));
}
