// What the benchmarks read about a process from /proc (Linux).
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";

/** Clock ticks per second of /proc/<pid>/stat times. */
export const CLK_TCK = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim());

/** CPU time (user + system) a process has used so far, in clock ticks. Throws once it is gone. */
export function cpuTicks(pid: number): number {
  const stat = readFileSync(`/proc/${String(pid)}/stat`, "utf8");
  // Fields after the parenthesised command name; utime and stime are fields 14 and 15 of the line.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return Number(fields[11]) + Number(fields[12]);
}

/** CPU seconds (user + system) a process has used so far; 0 once it is gone. */
export function cpuSeconds(pid: number): number {
  try {
    return cpuTicks(pid) / CLK_TCK;
  } catch {
    return 0;
  }
}

export function cpuOf(pids: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, cpuSeconds(pid)]));
}

/**
 * Waits until the harness's processes use under a tenth of a core for three seconds in a row.
 * A new cluster keeps working after `up` returns (kwok takes every node on, the controllers settle),
 * and a measurement made then measures that too.
 */
export async function waitForQuiet(pids: Record<string, number>, limitSeconds = 900): Promise<number> {
  const started = Date.now();
  let quiet = 0;
  let last = Object.values(cpuOf(pids)).reduce((a, b) => a + b, 0);
  while (quiet < 3 && Date.now() - started < limitSeconds * 1000) {
    await new Promise((r) => setTimeout(r, 1000));
    const now = Object.values(cpuOf(pids)).reduce((a, b) => a + b, 0);
    quiet = now - last < 0.1 ? quiet + 1 : 0;
    last = now;
  }
  return (Date.now() - started) / 1000;
}
