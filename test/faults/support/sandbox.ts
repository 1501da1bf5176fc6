// A scratch directory per probe: a/cluster.yml (the example RKE1 config that apply edits), b/ for
// other files, state/ for backups; and the argument lists the probes share.

import { mkdir, mkdtemp, readdir, readFile, realpath, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { REPO } from "./driver.js";

export const ORIGINAL = await readFile(join(REPO, "examples/rke1-canal-affected/cluster.yml"));
export const STEP = "rke1-pin-system-images";

export interface Box {
  dir: string;
  /** a/cluster.yml, absolute */
  file: string;
  state: string;
}

export async function sandbox(prefix = "cnid-faults-"): Promise<Box> {
  // realpath'd, so paths printed by the CLI compare equal to ours
  const dir = await realpath(await mkdtemp(join(tmpdir(), prefix)));
  await mkdir(join(dir, "a"));
  await mkdir(join(dir, "b"));
  const file = join(dir, "a", "cluster.yml");
  await writeFile(file, ORIGINAL);
  return { dir, file, state: join(dir, "state") };
}

/** apply of the one file step, naming the file as given (relative to a/ when it is "cluster.yml"). */
export const applyArgs = (b: Box, file = b.file): string[] => [
  "apply",
  "--rke-config",
  file,
  "--only",
  STEP,
  "--yes",
  "--state-dir",
  b.state,
];

export const rollbackArgs = (b: Box, id: string, ...more: string[]): string[] => [
  "rollback",
  id,
  "--yes",
  "--state-dir",
  b.state,
  ...more,
];

export const backupId = (stdout: string): string => /^backup: (\S+)$/m.exec(stdout)?.[1] ?? "";

/** Backups that exist, newest first (a hidden `.ID.partial` is one a kill stopped before it existed). */
export async function backups(b: Box): Promise<string[]> {
  const names = await readdir(join(b.state, "backups")).catch(() => [] as string[]);
  return names
    .filter((n) => !n.startsWith("."))
    .sort()
    .reverse();
}
