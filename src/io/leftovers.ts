// What a killed cnidoctor run leaves behind, and the rule for clearing it on the next run. Every
// hidden file or directory cnidoctor makes beside a user's file carries its maker in its name: the
// PID and a short tag of the host (`<pid>.<host>`); locks hold the same in their JSON. A leftover
// is removed only when both are provable: the name is one of cnidoctor's own patterns, and its
// maker ran on this host and is no longer running. Anything else (another host's, a live run's,
// a name that merely looks similar) stays where it is.

import { createHash } from "node:crypto";
import { hostname } from "node:os";
import { processAlive } from "./durability.js";

/** Eight hex digits naming this host in leftover names (host names may hold dots and dashes). */
export const HOST_TAG = createHash("sha256").update(hostname()).digest("hex").slice(0, 8);

/** `<pid>.<host tag>`: the maker of a hidden temporary, as written into its name. */
export function ownerTag(pid: number = process.pid): string {
  return `${pid}.${HOST_TAG}`;
}

/** The pattern of an owner tag inside a leftover's name: PID, then host tag. */
export const OWNER_PATTERN = String.raw`(\d+)\.([0-9a-f]{8})`;

/** True when `pid` on host `host` (a tag) is provably gone: this host, not this process, not running. */
export function makerGone(pid: number, host: string): boolean {
  return (
    host === HOST_TAG && Number.isSafeInteger(pid) && pid > 0 && pid !== process.pid && !processAlive(pid)
  );
}

/** A lock's holder is provably gone: its host is this one (by name) and its PID is not running. */
export function holderGone(holder: { pid: number; host: string }): boolean {
  return holder.host === hostname() && makerGone(holder.pid, HOST_TAG);
}

/** What a sweep cleared, and anything else it did or found but would not touch (one line each). */
export interface Cleanup {
  removed: string[];
  notes: string[];
}

export function mergeCleanups(parts: readonly Cleanup[]): Cleanup {
  return { removed: parts.flatMap((p) => p.removed), notes: parts.flatMap((p) => p.notes) };
}

/**
 * The lines for stderr: one naming everything removed, then one per note (a leftover put back or
 * kept, and why). Empty when nothing was found.
 */
export function cleanupLines(c: Cleanup): string[] {
  const removed = [...new Set(c.removed)];
  return [
    ...(removed.length > 0
      ? [`cleanup: removed ${removed.join(", ")} (left by a killed cnidoctor run on this host)`]
      : []),
    ...[...new Set(c.notes)].map((n) => `cleanup: ${n}`),
  ];
}
