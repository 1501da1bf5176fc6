// An advisory lock beside a file that apply or rollback is about to change: `<file>.cnidoctor.lock`,
// created with link(2) so exactly one process wins even on NFS, holding who took it. Another
// cnidoctor run on the same file waits for nothing: it stops with the holder's identity. A lock
// left by a killed run on this host (its PID gone) is taken over; one from another host is not,
// because its PID cannot be checked from here.

import { link, mkdir, readFile, rm, unlink, writeFile } from "node:fs/promises";
import { hostname } from "node:os";
import { dirname } from "node:path";
import { holderGone, OWNER_PATTERN, ownerTag } from "../io/leftovers.js";

export interface LockHolder {
  pid: number;
  host: string;
  since: string;
  purpose: string;
}

export class LockedError extends Error {}

export type Release = () => Promise<void>;

export function lockPathFor(file: string): string {
  return `${file}.cnidoctor.lock`;
}

/** A lock (group 2 undefined) or the temporary it is linked from: [, file, pid, host]. */
export const LOCK_NAME = new RegExp(String.raw`^(.+)\.cnidoctor\.lock(?:\.${OWNER_PATTERN})?$`);

export async function readHolder(lock: string): Promise<LockHolder | undefined> {
  try {
    const h = JSON.parse(await readFile(lock, "utf8")) as Partial<LockHolder>;
    if (typeof h.pid === "number" && typeof h.host === "string")
      return { pid: h.pid, host: h.host, since: h.since ?? "?", purpose: h.purpose ?? "?" };
  } catch {
    // unreadable or half-written by a killed run: treated as held by an unknown process below
  }
  return undefined;
}

/** Takes the lock on `file` or throws LockedError naming the holder. */
export async function acquireFileLock(
  file: string,
  purpose: string,
  now: () => Date = () => new Date(),
): Promise<Release> {
  const lock = lockPathFor(file);
  const me: LockHolder = { pid: process.pid, host: hostname(), since: now().toISOString(), purpose };
  const tmp = `${lock}.${ownerTag()}`;
  // A generated file's directory may not exist yet; the write would create it anyway.
  await mkdir(dirname(file), { recursive: true });
  // A leftover from a killed run whose PID was reused may still be linked to a live lock:
  // writing through it would rename that lock's holder, so it goes first and the write is exclusive.
  await rm(tmp, { force: true });
  await writeFile(tmp, `${JSON.stringify(me)}\n`, { mode: 0o600, flag: "wx" });
  try {
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        await link(tmp, lock);
        return async () => {
          await rm(lock, { force: true });
        };
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
      }
      const holder = await readHolder(lock);
      const stale = holder !== undefined && holderGone(holder);
      if (!stale || attempt > 0)
        throw new LockedError(
          holder === undefined
            ? `${file} is locked (${lock} exists and names no holder); remove it if no cnidoctor apply or rollback is running`
            : `${file} is locked by cnidoctor ${holder.purpose} (pid ${holder.pid} on ${holder.host} since ${holder.since}); wait for it, or remove ${lock} if that process is gone`,
        );
      // The holder was killed on this host: its lock protects nothing any more.
      await unlink(lock).catch(() => undefined);
    }
    throw new LockedError(`${file} is locked (${lock})`);
  } finally {
    await rm(tmp, { force: true });
  }
}
