// Starting, watching and stopping the cluster's component processes. Each component runs detached
// (its own process group) with stdout/stderr in <state>/logs/<name>.log and its pid in
// <state>/pids/<name>.pid, so a later `down` — even from another shell after a crash — can find it.
import { spawn } from "node:child_process";
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

export class ComponentError extends Error {
  constructor(
    message: string,
    readonly component: string,
    readonly logFile: string,
  ) {
    super(message);
  }
}

export interface ComponentSpec {
  name: string;
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

export function logFileOf(stateDir: string, name: string): string {
  return join(stateDir, "logs", `${name}.log`);
}

function pidFileOf(stateDir: string, name: string): string {
  return join(stateDir, "pids", `${name}.pid`);
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    // ESRCH: gone. EPERM: the pid exists but belongs to someone else, so it is not ours either.
    return false;
  }
}

/** The process's command line, to make sure a recorded pid was not reused by an unrelated process. */
function commandLineOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ");
  } catch {
    return "";
  }
}

/** Pid of a running component recorded in the state dir, or undefined when absent, stale or reused. */
export function runningPid(stateDir: string, name: string): number | undefined {
  const file = pidFileOf(stateDir, name);
  if (!existsSync(file)) return undefined;
  const [pidText, marker] = readFileSync(file, "utf8").split("\n");
  const pid = Number(pidText);
  if (!Number.isInteger(pid) || pid <= 0 || !isAlive(pid)) return undefined;
  if (marker && !commandLineOf(pid).includes(marker)) return undefined;
  return pid;
}

export function startComponent(stateDir: string, spec: ComponentSpec): number {
  mkdirSync(join(stateDir, "logs"), { recursive: true });
  mkdirSync(join(stateDir, "pids"), { recursive: true });
  const out = openSync(logFileOf(stateDir, spec.name), "a");
  try {
    const child = spawn(spec.command, spec.args, {
      cwd: spec.cwd ?? stateDir,
      env: spec.env ?? process.env,
      detached: true,
      stdio: ["ignore", out, out],
    });
    if (child.pid === undefined) {
      throw new ComponentError(`could not start ${spec.command}`, spec.name, logFileOf(stateDir, spec.name));
    }
    child.unref();
    // The marker (the state dir appears in every component's arguments) lets a later run tell our
    // process from an unrelated one that inherited the pid number.
    writeFileSync(pidFileOf(stateDir, spec.name), `${child.pid}\n${stateDir}\n`);
    return child.pid;
  } finally {
    closeSync(out);
  }
}

/** Stops a component: SIGTERM to its process group, SIGKILL after the grace period. */
export async function stopComponent(stateDir: string, name: string, graceMs = 5000): Promise<void> {
  const pid = runningPid(stateDir, name);
  if (pid !== undefined) {
    signalGroup(pid, "SIGTERM");
    const deadline = Date.now() + graceMs;
    while (isAlive(pid) && Date.now() < deadline) await sleep(100);
    if (isAlive(pid)) signalGroup(pid, "SIGKILL");
    while (isAlive(pid)) await sleep(50);
  }
  rmSync(pidFileOf(stateDir, name), { force: true });
}

/**
 * SIGKILLs every component recorded in the state dir at once, synchronously: for a test process
 * that is itself being stopped by a signal and has no time left for the graceful stopComponent.
 */
export function killComponentsNow(stateDir: string): void {
  signalComponents(stateDir, "SIGKILL");
}

/** Sends `signal` to every running component recorded in the state dir (e.g. SIGCONT after SIGSTOP). */
export function signalComponents(stateDir: string, signal: NodeJS.Signals): void {
  const dir = join(stateDir, "pids");
  if (!existsSync(dir)) return;
  for (const file of readdirSync(dir)) {
    if (!file.endsWith(".pid")) continue;
    const pid = runningPid(stateDir, file.slice(0, -".pid".length));
    if (pid !== undefined) signalGroup(pid, signal);
  }
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      // Already gone.
    }
  }
}

/** Last lines of a component's log, for error messages. */
export function tailLog(file: string, lines = 40): string {
  if (!existsSync(file)) return `(no log at ${file})`;
  const text = readFileSync(file, "utf8");
  return text
    .split("\n")
    .slice(-lines - 1)
    .join("\n");
}

/**
 * Polls `probe` until it returns true. Fails early when the component died, and with the log tail
 * when the deadline passes, so a broken start never hangs the caller.
 */
export async function waitUntil(
  what: string,
  probe: () => Promise<boolean>,
  opts: { stateDir: string; component: string; timeoutMs: number },
): Promise<void> {
  const deadline = Date.now() + opts.timeoutMs;
  const logFile = logFileOf(opts.stateDir, opts.component);
  for (;;) {
    if (await probe().catch(() => false)) return;
    if (runningPid(opts.stateDir, opts.component) === undefined) {
      throw new ComponentError(`${opts.component} exited while waiting for ${what}`, opts.component, logFile);
    }
    if (Date.now() > deadline) {
      throw new ComponentError(
        `timed out after ${opts.timeoutMs / 1000} s waiting for ${what}`,
        opts.component,
        logFile,
      );
    }
    await sleep(250);
  }
}
