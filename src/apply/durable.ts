// Writing a file so that a crash at any point leaves either the old bytes or the new ones: a
// temporary file in the same directory, written and fsynced, renamed over the target, then the
// directory fsynced so the rename itself survives a power cut. Owner and mode are carried over.
// Paths are canonicalised first, so a symlink keeps pointing where it did and its target is edited.

import { createHash } from "node:crypto";
import { constants } from "node:fs";
import {
  link,
  lstat,
  open,
  readFile,
  readlink,
  realpath,
  rename,
  rm,
  stat,
  unlink,
  type FileHandle,
} from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { syncDir } from "../io/durability.js";
import { InputError } from "../errors.js";
import { notRegular } from "../io/open-input.js";
import { OWNER_PATTERN, ownerTag } from "../io/leftovers.js";

export const sha256 = (b: Buffer | string): string => createHash("sha256").update(b).digest("hex");

/**
 * The hidden temporary beside `name` that writeDurably renames over it, named after its maker
 * (`.<name>.cnidoctor-tmp-<pid>.<host>`); `<that>.replaced` pins the file it replaces. A kill
 * leaves them behind; sweep.ts clears them once their maker is gone.
 */
export function tempNameFor(name: string): string {
  return `.${name}.cnidoctor-tmp-${ownerTag()}`;
}

/** Matches tempNameFor's names: [, name, pid, host, ".replaced" or undefined]. */
export const TEMP_NAME = new RegExp(String.raw`^\.(.+)\.cnidoctor-tmp-${OWNER_PATTERN}(\.replaced)?$`);

/** What a file was when it was looked at: enough to tell later whether it is still that file. */
export interface FileIdentity {
  sha256: string;
  dev: number;
  ino: number;
  mode: number;
  uid: number;
  gid: number;
}

/**
 * The absolute path with every symlink resolved. A missing file resolves through its directory,
 * so a file apply is about to create gets the same canonical name it will have afterwards.
 */
export async function canonicalPath(path: string): Promise<string> {
  const abs = resolve(path);
  try {
    return await realpath(abs);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
  }
  // A dangling symlink names where the file would be created: follow it by hand.
  const link = await lstat(abs).catch(() => undefined);
  if (link?.isSymbolicLink() === true) {
    return canonicalPath(resolve(dirname(abs), await readlink(abs)));
  }
  const dir = await realpath(dirname(abs)).catch(() => dirname(abs));
  return join(dir, basename(abs));
}

/**
 * The file's bytes, or undefined when there is none. Opened non-blocking and checked on the
 * handle: a FIFO or device where a file apply edits or writes should be (or swapped in) is an
 * InputError naming it, never a read that blocks.
 */
export async function readIfExists(path: string): Promise<Buffer | undefined> {
  let h: FileHandle;
  try {
    h = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw e;
  }
  try {
    const problem = notRegular(await h.stat());
    if (problem !== undefined) throw new InputError(path, problem);
    return await h.readFile();
  } finally {
    await h.close();
  }
}

/** The file's bytes and identity, or undefined when there is no file. */
export async function identify(path: string): Promise<{ bytes: Buffer; id: FileIdentity } | undefined> {
  const bytes = await readIfExists(path);
  if (bytes === undefined) return undefined;
  const s = await stat(path);
  return {
    bytes,
    id: { sha256: sha256(bytes), dev: s.dev, ino: s.ino, mode: s.mode & 0o7777, uid: s.uid, gid: s.gid },
  };
}

export interface Ownership {
  mode: number;
  uid?: number;
  gid?: number;
}

/** Thrown when the file being replaced was not the one expected; it is left (or put back) as found. */
export class ReplacedChanged extends Error {}

/**
 * Replaces `path` (canonical) with `bytes` atomically and durably, keeping `owner`.
 *
 * With `expectSha256`, the file being replaced must hold exactly those bytes (undefined: must not
 * exist). The file is pinned by a hard link before it is compared, so an edit written into it in
 * place after the comparison (even after the rename) is still seen: the bytes the rename replaced
 * are checked once more, and when they changed the edited file is renamed back into place.
 */
export async function writeDurably(
  path: string,
  bytes: Buffer | string,
  owner: Ownership,
  expectSha256?: string | null,
): Promise<void> {
  const dir = dirname(path);
  const tmp = join(dir, tempNameFor(basename(path)));
  const h = await open(tmp, "w", owner.mode & 0o777);
  try {
    await h.writeFile(bytes);
    await h.chmod(owner.mode);
    if (owner.uid !== undefined && owner.gid !== undefined) {
      // Only root may give a file away; as the owner the ids already match.
      await h.chown(owner.uid, owner.gid).catch((e: unknown) => {
        if ((e as NodeJS.ErrnoException).code !== "EPERM") throw e;
      });
    }
    await h.sync();
  } catch (e) {
    await h.close();
    await rm(tmp, { force: true });
    throw e;
  }
  await h.close();
  if (expectSha256 === undefined) {
    await rename(tmp, path);
    await syncDir(dir);
    return;
  }
  const kept = `${tmp}.replaced`;
  const pinned = await link(path, kept).then(
    () => true,
    (e: unknown) => {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return false;
      throw e;
    },
  );
  try {
    const matches = async (): Promise<boolean> => {
      const found = pinned ? sha256(await readFile(kept)) : null;
      return found === expectSha256;
    };
    if (!(await matches()) || (!pinned && (await readIfExists(path)) !== undefined)) {
      await rm(tmp, { force: true });
      throw new ReplacedChanged(`${path}: changed before it could be replaced`);
    }
    await rename(tmp, path);
    if (!(await matches())) {
      // An in-place edit landed between the comparison and the rename: the edited file goes back.
      await rename(kept, path);
      await syncDir(dir);
      throw new ReplacedChanged(
        `${path}: changed while it was being replaced; the changed file was put back`,
      );
    }
  } finally {
    if (pinned) await rm(kept, { force: true });
  }
  await syncDir(dir);
}

/** Removes `path` and makes the removal durable. */
export async function removeDurably(path: string): Promise<void> {
  await unlink(path);
  await syncDir(dirname(path));
}
