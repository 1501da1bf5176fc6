// Rotated log sets: the files one log was rotated into, read oldest first as one source.
//
// A file's set is its directory plus its name without the rotation suffix:
// - numbered:  `current`, `current.1`, `current.2.gz` (logrotate, Felix's /var/log/calico/felix),
//              `<id>-json.log`, `<id>-json.log.1` (docker json-file): a higher number is older;
// - dated:     `0.log`, `0.log.20240809-085308`, `0.log.20240809-085308.gz` (kubelet): an earlier
//              date is older;
// - the file without a suffix is the newest (`name.gz` just before it).
// Members whose suffixes do not decide (the same number with and without .gz), and sets that mix
// dated and numbered members, are ordered by modification time, oldest first, then by name.

import { readdir, stat } from "node:fs/promises";
import { basename, dirname, join } from "node:path";

export interface RotatedSet {
  /** The set's name: the newest member's path without a suffix (e.g. /var/log/calico/felix/current). */
  base: string;
  /** Member paths, oldest first. */
  members: string[];
}

interface Parsed {
  path: string;
  base: string;
  /** 0 for the live file; otherwise a sort key where larger is OLDER. */
  age: number;
  dated: boolean;
  mtimeMs: number;
}

const NUMBERED = /^(.+)\.(\d{1,6})(\.gz)?$/;
const DATED = /^(.+)\.(\d{8})-(\d{6})(\.gz)?$/;
const GZ_ONLY = /^(.+)\.gz$/;
/** svlogd's control files in a Felix log directory. */
const CONTROL_FILES = new Set(["lock", "config", "state", "newstate"]);

/** Splits a file name into its set's name and an age rank (0: the live file, larger: older). */
export function rotationOf(name: string): { base: string; age: number; dated: boolean } {
  const dated = DATED.exec(name);
  if (dated) {
    // Older dates must sort as larger ages: negate the date's number.
    const stamp = Number(`${dated[2] ?? ""}${dated[3] ?? ""}`);
    return { base: dated[1] ?? name, age: 1e15 - stamp, dated: true };
  }
  const numbered = NUMBERED.exec(name);
  if (numbered && !/\.\d+$/.test(numbered[1] ?? "")) {
    return { base: numbered[1] ?? name, age: Number(numbered[2]), dated: false };
  }
  const gz = GZ_ONLY.exec(name);
  if (gz) return { base: gz[1] ?? name, age: 0.5, dated: false };
  return { base: name, age: 0, dated: false };
}

async function parse(path: string): Promise<Parsed> {
  const { base, age, dated } = rotationOf(basename(path));
  let mtimeMs = 0;
  try {
    mtimeMs = (await stat(path)).mtimeMs;
  } catch {
    // unreadable: the reader reports it; order by name alone
  }
  return { path, base: join(dirname(path), base), age, dated, mtimeMs };
}

function byMtime(a: Parsed, b: Parsed): number {
  if (a.mtimeMs !== b.mtimeMs) return a.mtimeMs - b.mtimeMs;
  return a.path < b.path ? -1 : a.path > b.path ? 1 : 0;
}

function older(a: Parsed, b: Parsed): number {
  if (a.age !== b.age) return b.age - a.age;
  if (a.mtimeMs !== b.mtimeMs) return a.mtimeMs - b.mtimeMs;
  return a.path < b.path ? -1 : a.path > b.path ? 1 : 0;
}

/** Groups paths into rotated sets, each ordered oldest first; sets keep the order of first mention. */
export async function groupRotated(paths: readonly string[]): Promise<RotatedSet[]> {
  const parsed = await Promise.all(paths.map(parse));
  const sets = new Map<string, Parsed[]>();
  for (const p of parsed) {
    const list = sets.get(p.base);
    if (list === undefined) sets.set(p.base, [p]);
    else if (!list.some((q) => q.path === p.path)) list.push(p);
  }
  return [...sets.entries()].map(([base, list]) => {
    const rotated = list.filter((p) => p.age >= 1);
    const mixed = rotated.some((p) => p.dated) && rotated.some((p) => !p.dated);
    return { base, members: [...list].sort(mixed ? byMtime : older).map((p) => p.path) };
  });
}

/** The regular files of a directory that can be log files (no hidden or svlogd control files), sorted. */
export async function logFilesIn(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  return entries
    .filter((e) => e.isFile() && !e.name.startsWith(".") && !CONTROL_FILES.has(e.name))
    .map((e) => join(dir, e.name))
    .sort();
}
