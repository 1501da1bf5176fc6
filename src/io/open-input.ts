// Every file cnidoctor reads goes through here: it must be a regular file (or stdin, given as `-`,
// by the callers that accept it), it is opened non-blocking so a FIFO swapped in after the check
// cannot hang the open, and it is capped per kind so `/dev/zero` or a runaway file cannot eat the
// memory. Problems are InputErrors naming the file (exit 2, one line) or, for bundle readers, the
// same text as a coverage gap.

import { constants, statSync, type Stats } from "node:fs";
import { open, stat, type FileHandle } from "node:fs/promises";
import { InputError } from "../errors.js";

const MiB = 2 ** 20;

/** Size caps per input kind (bytes). Logs are streamed and have none. */
export const INPUT_CAPS = {
  advisory: 4 * MiB,
  "rke-config": 16 * MiB,
  /** Rancher's KDM data.json is a few MiB; a hundred leaves room for years of releases. */
  kdm: 128 * MiB,
  kubeconfig: 16 * MiB,
  token: 1 * MiB,
  "bundle list": 4 * 2 ** 30,
  log: Number.POSITIVE_INFINITY,
} as const;

export type InputKind = keyof typeof INPUT_CAPS;

function formatCap(bytes: number): string {
  return bytes >= 2 ** 30 ? `${bytes / 2 ** 30} GiB` : `${bytes / MiB} MiB`;
}

function typeName(st: Stats): string {
  if (st.isDirectory()) return "a directory";
  if (st.isFIFO()) return "a FIFO (named pipe)";
  if (st.isCharacterDevice()) return "a character device";
  if (st.isBlockDevice()) return "a block device";
  if (st.isSocket()) return "a socket";
  return "not a regular file";
}

/** Why `st` is not a regular file ("is a FIFO (named pipe), expected a regular file"), or undefined. */
export function notRegular(st: Stats): string | undefined {
  return st.isFile() ? undefined : `is ${typeName(st)}, expected a regular file`;
}

/** The problem with `st` as a `kind` input, or undefined when it is fine. */
export function inputProblem(st: Stats, kind: InputKind): string | undefined {
  if (!st.isFile()) return `is ${typeName(st)}, expected a regular file`;
  const cap = INPUT_CAPS[kind];
  if (st.size > cap) return `is ${st.size} bytes, over the ${formatCap(cap)} cap for a ${kind}`;
  return undefined;
}

/** Thrown for a wrong file type or an oversized file (fs errors such as ENOENT pass through). */
export class InputFileError extends InputError {}

/** Checks `path` (following links) before a library reads it synchronously (a kubeconfig). */
export function checkInputSync(path: string, kind: InputKind): void {
  const problem = inputProblem(statSync(path), kind);
  if (problem !== undefined) throw new InputFileError(path, problem);
}

/**
 * Opens `path` for reading: checked before the open (a FIFO is never opened), opened with
 * O_NONBLOCK, and checked again on the handle (the file may have been swapped in between).
 */
export async function openInput(
  path: string,
  kind: InputKind,
): Promise<{ handle: FileHandle; size: number }> {
  const before = inputProblem(await stat(path), kind);
  if (before !== undefined) throw new InputFileError(path, before);
  const handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const st = await handle.stat();
    const after = inputProblem(st, kind);
    if (after !== undefined) throw new InputFileError(path, after);
    return { handle, size: st.size };
  } catch (e) {
    await handle.close();
    throw e;
  }
}

/** The whole file, capped: reads at most cap + 1 bytes even if the file grows while read. */
export async function readInputBytes(path: string, kind: InputKind): Promise<Buffer> {
  const { handle, size } = await openInput(path, kind);
  try {
    const cap = INPUT_CAPS[kind];
    const parts: Buffer[] = [];
    let total = 0;
    const chunk = Math.max(64 * 1024, Math.min(size + 1, 16 * MiB));
    for (;;) {
      const buf = Buffer.allocUnsafe(chunk);
      const { bytesRead } = await handle.read(buf, 0, chunk, null);
      if (bytesRead === 0) break;
      total += bytesRead;
      if (total > cap) throw new InputFileError(path, `grew over the ${formatCap(cap)} cap for a ${kind}`);
      parts.push(buf.subarray(0, bytesRead));
    }
    return parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts, total);
  } finally {
    await handle.close();
  }
}

export async function readInputText(path: string, kind: InputKind): Promise<string> {
  return (await readInputBytes(path, kind)).toString("utf8");
}

/** Standard input, capped like a file of that kind (for inputs given as `-`). */
export async function readStdinText(
  kind: InputKind,
  stdin: NodeJS.ReadableStream = process.stdin,
): Promise<string> {
  const cap = INPUT_CAPS[kind];
  const parts: Buffer[] = [];
  let total = 0;
  for await (const chunk of stdin) {
    const buf = Buffer.from(chunk);
    total += buf.length;
    if (total > cap) throw new InputError("stdin", `is over the ${formatCap(cap)} cap for a ${kind}`);
    parts.push(buf);
  }
  return Buffer.concat(parts, total).toString("utf8");
}

/** A file's text, or standard input's when the path is `-`. */
export function readInputOrStdin(path: string, kind: InputKind): Promise<string> {
  return path === "-" ? readStdinText(kind) : readInputText(path, kind);
}
