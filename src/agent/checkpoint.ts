// The agent's small state file: for every log file it has read, the file's identity (device and
// inode), the path it was last seen at, how far it was read, and a hash of its first bytes (to tell
// a rewritten or reused file from the one that was read); plus, per advisory, when the symptom was
// last seen. Written atomically (temp file, fsync, rename) so a crash leaves the old or the new
// state, never half of one.

import { open, readFile, rename, unlink } from "node:fs/promises";
import { join } from "node:path";

export interface FileCheckpoint {
  /** "<dev>:<ino>" of the file. */
  key: string;
  /** Where the file was last seen (a rotation renames it; the identity stays). */
  path: string;
  /** Bytes consumed: always the end of a complete line (of decompressed text for .gz files). */
  offset: number;
  /** Length and sha1 (hex) of the file's first bytes, 0 and "" until the file has that many. */
  headLength: number;
  headHash: string;
  /** A compressed file read to its end: never read again. */
  done: boolean;
  /** When the file was last seen in the log roots (ms); entries of vanished files are pruned later. */
  seenAt: number;
}

export interface AdvisoryCheckpoint {
  /** When the last symptom match was seen (ms; its log time, capped at the time it was read). */
  lastSymptomAt?: number;
}

export interface AgentCheckpoint {
  version: 1;
  node: string;
  files: FileCheckpoint[];
  advisories: Record<string, AdvisoryCheckpoint>;
}

export const CHECKPOINT_FILE = "agent-state.json";

export function emptyCheckpoint(node: string): AgentCheckpoint {
  return { version: 1, node, files: [], advisories: {} };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function fileEntry(value: unknown): FileCheckpoint | undefined {
  if (!isRecord(value)) return undefined;
  const { key, path, offset, headLength, headHash, done, seenAt } = value;
  if (typeof key !== "string" || typeof path !== "string") return undefined;
  if (typeof offset !== "number" || !Number.isSafeInteger(offset) || offset < 0) return undefined;
  if (typeof headLength !== "number" || typeof headHash !== "string") return undefined;
  if (typeof seenAt !== "number") return undefined;
  return { key, path, offset, headLength, headHash, done: done === true, seenAt };
}

function advisoryEntries(value: unknown): Record<string, AdvisoryCheckpoint> {
  const out: Record<string, AdvisoryCheckpoint> = {};
  if (!isRecord(value)) return out;
  for (const [id, entry] of Object.entries(value)) {
    if (!isRecord(entry)) continue;
    const last = entry.lastSymptomAt;
    out[id] = typeof last === "number" && Number.isFinite(last) ? { lastSymptomAt: last } : {};
  }
  return out;
}

export interface LoadedCheckpoint {
  checkpoint: AgentCheckpoint;
  /** Why the stored state was not used, when it existed but could not be (then reading starts over). */
  problem?: string;
}

/** Reads the state of `node` from `dir`; a missing file is a first start, a broken one a problem. */
export async function loadCheckpoint(dir: string, node: string): Promise<LoadedCheckpoint> {
  const file = join(dir, CHECKPOINT_FILE);
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return { checkpoint: emptyCheckpoint(node) };
    return { checkpoint: emptyCheckpoint(node), problem: `${file}: ${(e as Error).message}` };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    return { checkpoint: emptyCheckpoint(node), problem: `${file}: not JSON (${(e as Error).message})` };
  }
  if (!isRecord(parsed) || parsed.version !== 1 || !Array.isArray(parsed.files)) {
    return { checkpoint: emptyCheckpoint(node), problem: `${file}: not an agent state file of version 1` };
  }
  if (parsed.node !== node) {
    // A hostPath shared by mistake, or a renamed node: its offsets describe another node's files.
    return {
      checkpoint: emptyCheckpoint(node),
      problem: `${file}: state of node '${String(parsed.node)}', not '${node}'; starting over`,
    };
  }
  const files = parsed.files.map(fileEntry).filter((f): f is FileCheckpoint => f !== undefined);
  return { checkpoint: { version: 1, node, files, advisories: advisoryEntries(parsed.advisories) } };
}

/** Writes the state atomically: a temp file beside it, flushed to disk, then renamed over it. */
export async function saveCheckpoint(dir: string, checkpoint: AgentCheckpoint): Promise<void> {
  const file = join(dir, CHECKPOINT_FILE);
  const temp = `${file}.${process.pid}.tmp`;
  const handle = await open(temp, "w", 0o600);
  try {
    await handle.writeFile(`${JSON.stringify(checkpoint)}\n`, "utf8");
    await handle.datasync();
  } finally {
    await handle.close();
  }
  try {
    await rename(temp, file);
  } catch (e) {
    await unlink(temp).catch(() => undefined);
    throw e;
  }
}
