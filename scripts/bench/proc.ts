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

/** CPU seconds every process on the machine has used so far (all cores; /proc/stat less idle and iowait). */
export function machineBusySeconds(): number {
  const line = readFileSync("/proc/stat", "utf8").split("\n")[0] ?? "";
  // cpu user nice system idle iowait irq softirq steal ...
  const [user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).slice(1).map(Number);
  return ((user ?? 0) + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0) + (steal ?? 0)) / CLK_TCK;
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
 * Waits until the harness's processes use under `cores` (a tenth of a core by default) for three
 * seconds in a row. A new cluster keeps working after `up` returns (kwok takes every node on, the
 * controllers settle), and a measurement made then measures that too. An idle cluster still uses
 * ~5 % of a core, so several clusters need a limit that grows with their number.
 */
export async function waitForQuiet(
  pids: Record<string, number>,
  limitSeconds = 900,
  cores = 0.1,
): Promise<number> {
  const started = Date.now();
  let quiet = 0;
  let last = Object.values(cpuOf(pids)).reduce((a, b) => a + b, 0);
  while (quiet < 3 && Date.now() - started < limitSeconds * 1000) {
    await new Promise((r) => setTimeout(r, 1000));
    const now = Object.values(cpuOf(pids)).reduce((a, b) => a + b, 0);
    quiet = now - last < cores ? quiet + 1 : 0;
    last = now;
  }
  return (Date.now() - started) / 1000;
}
