// Clears what a killed apply or rollback left beside the files it was changing: the lock
// (`<file>.cnidoctor.lock`), the temporary the lock was linked from, and writeDurably's temporary
// and pin (`.<file>.cnidoctor-tmp-<pid>.<host>[.replaced]`). Only those names, and only when the
// run that made them ran on this host and is gone (see src/io/leftovers.ts).

import { lstat, readdir, rm, stat, unlink } from "node:fs/promises";
import { dirname, join } from "node:path";
import { holderGone, makerGone, type Cleanup } from "../io/leftovers.js";
import { canonicalPath, TEMP_NAME } from "./durable.js";
import { LOCK_NAME, readHolder } from "./lock.js";

async function sweepDir(dir: string, out: Cleanup): Promise<void> {
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    const path = join(dir, name);
    const temp = TEMP_NAME.exec(name);
    if (temp !== null) {
      if (!makerGone(Number(temp[2]), temp[3] ?? "")) continue;
      const st = await lstat(path).catch(() => undefined);
      if (st === undefined || !st.isFile()) continue;
      // The pin shares the inode of the file it pinned: while that file still has it, the pin
      // holds nothing of its own. Once the file was replaced it may hold the only copy of an edit
      // made during the write, so it is left for a person to look at.
      if (temp[4] !== undefined && st.nlink < 2) {
        out.notes.push(
          `kept ${path}: it holds bytes a killed write replaced in ${join(dir, temp[1] ?? "")}; compare, then delete it`,
        );
        continue;
      }
      await rm(path, { force: true });
      out.removed.push(path);
      continue;
    }
    const lock = LOCK_NAME.exec(name);
    if (lock === null) continue;
    if (lock[2] !== undefined) {
      // The temporary a lock is linked from: unlinking it never touches the lock.
      if (!makerGone(Number(lock[2]), lock[3] ?? "")) continue;
      await rm(path, { force: true });
      out.removed.push(path);
      continue;
    }
    const before = await stat(path).catch(() => undefined);
    const holder = before?.isFile() === true ? await readHolder(path) : undefined;
    if (before === undefined || holder === undefined || !holderGone(holder)) continue;
    // Removed only if it is still the lock that was read (not one a live run has just taken).
    const now = await stat(path).catch(() => undefined);
    if (now?.ino !== before.ino || now.dev !== before.dev || now.mtimeMs !== before.mtimeMs) continue;
    await unlink(path).catch(() => undefined);
    out.removed.push(path);
  }
}

/**
 * Sweeps the directories holding `files` (missing files are fine) and the directories `dirs`
 * (e.g. --output-dir, where generated files are written), each once.
 */
export async function sweepFileLeftovers(
  files: readonly string[],
  dirs: readonly string[] = [],
): Promise<Cleanup> {
  const all = new Set<string>();
  for (const f of files) all.add(dirname(await canonicalPath(f)));
  for (const d of dirs) all.add(await canonicalPath(d));
  const out: Cleanup = { removed: [], notes: [] };
  for (const d of all) await sweepDir(d, out);
  return out;
}
