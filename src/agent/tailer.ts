// Follows the watched containers' log files (calico-node, and those the advisories name) under the log roots and feeds their complete lines, once each,
// to one line sink per file: across rename rotation (the identity keeps its open handle and is read
// to its end wherever it moved), copytruncate (the file shrinks or its first bytes change: read from
// the start again), kubelet's later compression of a rotation (the .gz skips what was already read
// of the file it was made from) and restarts of the agent (the checkpoint holds every identity's
// offset). A file is identified by device and inode, never by name.

import { createReadStream } from "node:fs";
import { open, stat, type FileHandle } from "node:fs/promises";
import type { Gunzip } from "node:zlib";
import { crypto } from "./builtins.js";
import type { FileCheckpoint } from "./checkpoint.js";
import {
  containerDirFiles,
  DEFAULT_CONTAINERS,
  discover,
  isContainersLink,
  type Candidate,
} from "./discover.js";

/** Where a file's lines go: the log engine's LogScanner satisfies this. */
export interface LineSink {
  pushLine(line: string, byteLength?: number): void;
  /** The source paused: complete the open record now. */
  flush(): void;
}

export interface TailerOptions {
  roots: readonly string[];
  /** The containers whose logs are followed (default calico-node). */
  containers?: readonly string[];
  /** Files known from the checkpoint. */
  files: readonly FileCheckpoint[];
  /** A fresh sink for a file (called again after a truncation: the old one is flushed first). */
  sinkFor: (path: string) => LineSink;
  now?: () => number;
  /** Bytes read per file per poll at most, so one huge backlog does not starve the rest (default 8 MiB). */
  maxBytesPerPoll?: number;
  /** Full walk of the roots every this many ms; known container directories are listed every poll (default 10 s). */
  rescanMs?: number;
  /** A file without new lines for this long gets its open record flushed (default 2 s). */
  idleFlushMs?: number;
  /** Entries of vanished files are kept this long for .gz lookups (default 1 h). */
  retainMs?: number;
}

export interface PollResult {
  bytes: number;
  lines: number;
  /** One line per problem (a file that could not be read); the pass goes on with the others. */
  problems: string[];
}

const HEAD_BYTES = 256;
const NEWLINE = 10;
const GZIP_MAGIC = [0x1f, 0x8b];

interface Tracked {
  state: FileCheckpoint;
  compressed: boolean;
  handle: FileHandle | undefined;
  sink: LineSink | undefined;
  /** Lines pushed since the sink was last flushed. */
  dirty: boolean;
  lastDataAt: number;
}

function keyOf(s: { dev: bigint; ino: bigint }): string {
  return `${s.dev}:${s.ino}`;
}

function sha1(buffer: Buffer): string {
  return crypto.createHash("sha1").update(buffer).digest("hex");
}

async function readAt(handle: FileHandle, position: number, length: number): Promise<Buffer> {
  const buffer = Buffer.allocUnsafe(length);
  let filled = 0;
  while (filled < length) {
    const { bytesRead } = await handle.read(buffer, filled, length - filled, position + filled);
    if (bytesRead === 0) break;
    filled += bytesRead;
  }
  return buffer.subarray(0, filled);
}

/** Decodes a run of complete lines and pushes them; returns the number of lines. */
function pushLines(sink: LineSink, text: Buffer): number {
  let count = 0;
  let start = 0;
  for (;;) {
    const nl = text.indexOf(NEWLINE, start);
    if (nl < 0) break;
    sink.pushLine(text.toString("utf8", start, nl), nl - start + 1);
    count++;
    start = nl + 1;
  }
  return count;
}

/** zlib is loaded on the first rotated .gz file: most nodes never have one, and it costs RSS. */
async function gunzip(): Promise<Gunzip> {
  const { createGunzip } = await import("node:zlib");
  return createGunzip();
}

/** The first `length` decompressed bytes of a gzip file (fewer when it is shorter). */
async function gunzipHead(path: string, length: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  let have = 0;
  const source = createReadStream(path);
  const stream = source.pipe(await gunzip());
  try {
    for await (const piece of stream as AsyncIterable<Buffer>) {
      parts.push(piece);
      have += piece.length;
      if (have >= length) break;
    }
  } finally {
    source.destroy();
    stream.destroy();
  }
  return Buffer.concat(parts).subarray(0, length);
}

export class Tailer {
  private readonly opts: Required<Omit<TailerOptions, "files">>;
  private readonly known = new Map<string, FileCheckpoint>();
  private readonly tracked = new Map<string, Tracked>();
  private containerDirs: string[] = [];
  private rootFiles: Candidate[] = [];
  private lastWalk = Number.NEGATIVE_INFINITY;
  private changed = false;

  constructor(options: TailerOptions) {
    this.opts = {
      now: Date.now,
      maxBytesPerPoll: 8 * 1024 * 1024,
      rescanMs: 10_000,
      idleFlushMs: 2_000,
      retainMs: 3_600_000,
      containers: DEFAULT_CONTAINERS,
      ...options,
    };
    for (const f of options.files) this.known.set(f.key, { ...f });
  }

  /** Files currently followed. */
  get filesTracked(): number {
    return this.tracked.size;
  }

  /** True once after anything the checkpoint records has changed. */
  takeChanged(): boolean {
    const c = this.changed;
    this.changed = false;
    return c;
  }

  /** What the checkpoint should hold: every known identity, vanished ones until retainMs. */
  checkpointFiles(): FileCheckpoint[] {
    const now = this.opts.now();
    for (const [key, f] of this.known) {
      if (!this.tracked.has(key) && now - f.seenAt > this.opts.retainMs) this.known.delete(key);
    }
    return [...this.known.values()].map((f) => ({ ...f }));
  }

  /** One pass: find files, read what is new in each, retire what vanished. */
  async poll(): Promise<PollResult> {
    const result: PollResult = { bytes: 0, lines: 0, problems: [] };
    const now = this.opts.now();
    if (now - this.lastWalk >= this.opts.rescanMs) {
      const walk = await discover(this.opts.roots, this.opts.containers);
      this.containerDirs = walk.containerDirs;
      this.rootFiles = walk.files.filter((f) => !this.containerDirs.some((d) => f.path.startsWith(`${d}/`)));
      this.lastWalk = now;
    }
    const candidates = [...this.rootFiles];
    for (const dir of this.containerDirs) candidates.push(...(await containerDirFiles(dir)));
    const present = await this.identify(candidates, result);
    // Plain files first: a .gz made from a file still open waits until that file is gone.
    for (const [key, c] of present) if (!c.compressed) await this.follow(key, c, result);
    for (const [key, t] of [...this.tracked]) if (!present.has(key)) await this.retire(key, t, result);
    for (const [key, c] of present) if (c.compressed) await this.readCompressed(key, c, result);
    return result;
  }

  /** Reads every followed file to its end, flushes and closes everything (graceful stop). */
  async close(): Promise<void> {
    for (const [key, t] of [...this.tracked]) {
      await this.retire(key, t, { bytes: 0, lines: 0, problems: [] }, false);
    }
  }

  private async identify(candidates: Candidate[], result: PollResult): Promise<Map<string, Candidate>> {
    const present = new Map<string, Candidate>();
    for (const c of candidates) {
      let s;
      try {
        s = await stat(c.path, { bigint: true });
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        // Gone between listing and stat (rotation, pod deletion), or a dangling symlink: not a problem.
        if (code !== "ENOENT") result.problems.push(`${c.path}: ${(e as Error).message}`);
        continue;
      }
      if (!s.isFile()) continue;
      const key = keyOf(s);
      const seen = present.get(key);
      // Prefer the pods path over a /var/log/containers symlink to the same file.
      if (!seen || (isContainersLink(seen.path) && !isContainersLink(c.path))) present.set(key, c);
    }
    return present;
  }

  private async follow(key: string, c: Candidate, result: PollResult): Promise<void> {
    let t = this.tracked.get(key);
    try {
      if (!t) {
        t = await this.start(key, c);
        if (!t) return;
      }
      if (t.state.path !== c.path) {
        t.state.path = c.path;
        this.changed = true;
      }
      t.state.seenAt = this.opts.now();
      await this.checkTruncation(t);
      await this.readNew(t, result);
    } catch (e) {
      result.problems.push(`${c.path}: ${(e as Error).message}`);
    }
  }

  /** Opens a newly seen identity, resuming from the checkpoint when the file is the one recorded. */
  private async start(key: string, c: Candidate): Promise<Tracked | undefined> {
    const handle = await open(c.path, "r");
    const head = await readAt(handle, 0, 2);
    const compressed = c.compressed || (head[0] === GZIP_MAGIC[0] && head[1] === GZIP_MAGIC[1]);
    if (compressed) {
      // Compressed files are read whole in one go by readCompressed; only plain files are followed.
      await handle.close();
      if (!c.compressed) c.compressed = true;
      return undefined;
    }
    let state = this.known.get(key);
    if (state && !(await this.sameFile(handle, state))) {
      // The inode was reused by another file; keep the old entry (under another key) for as long
      // as a .gz made from that old file may still turn up.
      const retired = `${key}#${this.opts.now()}`;
      this.known.set(retired, { ...state, key: retired });
      state = undefined;
    }
    state ??= { key, path: c.path, offset: 0, headLength: 0, headHash: "", done: false, seenAt: 0 };
    state.path = c.path;
    this.known.set(key, state);
    const t: Tracked = {
      state,
      compressed: false,
      handle,
      sink: undefined,
      dirty: false,
      lastDataAt: this.opts.now(),
    };
    this.tracked.set(key, t);
    this.changed = true;
    return t;
  }

  /** Whether the open file is the one a checkpoint entry describes (same size or more, same first bytes). */
  private async sameFile(handle: FileHandle, state: FileCheckpoint): Promise<boolean> {
    const { size } = await handle.stat();
    if (size < state.offset) return false;
    if (state.headLength === 0) return true;
    return sha1(await readAt(handle, 0, state.headLength)) === state.headHash;
  }

  private restart(t: Tracked): void {
    if (t.sink && t.dirty) t.sink.flush();
    t.sink = undefined;
    t.dirty = false;
    t.state.offset = 0;
    t.state.headLength = 0;
    t.state.headHash = "";
    this.changed = true;
  }

  /** copytruncate: the file shrank below what was read, or its first bytes are not the ones read. */
  private async checkTruncation(t: Tracked): Promise<void> {
    const handle = t.handle;
    if (!handle || t.state.offset === 0) return;
    if (!(await this.sameFile(handle, t.state))) this.restart(t);
  }

  private async readNew(t: Tracked, result: PollResult): Promise<void> {
    const handle = t.handle;
    if (!handle) return;
    const { size } = await handle.stat();
    const now = this.opts.now();
    let budget = this.opts.maxBytesPerPoll;
    let consumedAny = false;
    while (t.state.offset < size && budget > 0) {
      const want = Math.min(size - t.state.offset, budget, 1024 * 1024);
      const chunk = await readAt(handle, t.state.offset, want);
      if (chunk.length === 0) break;
      budget -= chunk.length;
      let end = chunk.lastIndexOf(NEWLINE) + 1;
      if (end === 0) {
        // No newline: a line still being written (wait), or one longer than a whole chunk (cut it).
        if (chunk.length < 1024 * 1024) break;
        end = chunk.length;
        (t.sink ??= this.opts.sinkFor(t.state.path)).pushLine(chunk.toString("utf8"), chunk.length);
        result.lines++;
      } else {
        result.lines += pushLines((t.sink ??= this.opts.sinkFor(t.state.path)), chunk.subarray(0, end));
      }
      result.bytes += end;
      t.state.offset += end;
      consumedAny = true;
      if (end < chunk.length) break;
    }
    if (consumedAny) {
      t.dirty = true;
      t.lastDataAt = now;
      this.changed = true;
      await this.noteHead(t);
    } else if (t.dirty && now - t.lastDataAt >= this.opts.idleFlushMs) {
      t.sink?.flush();
      t.dirty = false;
    }
  }

  private async noteHead(t: Tracked): Promise<void> {
    if (!t.handle || t.state.headLength >= HEAD_BYTES) return;
    const length = Math.min(HEAD_BYTES, t.state.offset);
    if (length === t.state.headLength) return;
    t.state.headLength = length;
    t.state.headHash = sha1(await readAt(t.handle, 0, length));
  }

  /** A followed identity is no longer under the roots (deleted, or renamed away): read its rest, close. */
  private async retire(key: string, t: Tracked, result: PollResult, vanished = true): Promise<void> {
    try {
      if (!t.compressed) await this.readToEnd(t, result);
    } catch (e) {
      result.problems.push(`${t.state.path}: ${(e as Error).message}`);
    }
    if (t.sink && t.dirty) t.sink.flush();
    await t.handle?.close().catch(() => undefined);
    this.tracked.delete(key);
    if (vanished) this.changed = true;
  }

  private async readToEnd(t: Tracked, result: PollResult): Promise<void> {
    for (;;) {
      const before = t.state.offset;
      await this.readNew(t, result);
      if (t.state.offset === before) return;
    }
  }

  /** A compressed rotation: read once, skipping what was read of the file it was made from. */
  private async readCompressed(key: string, c: Candidate, result: PollResult): Promise<void> {
    const known = this.known.get(key);
    if (known?.done) {
      known.seenAt = this.opts.now();
      return;
    }
    try {
      const origin = await this.originOf(key, c.path);
      if (origin && this.tracked.has(origin.key)) return; // still open: wait until it is gone
      const skip = origin?.offset ?? 0;
      const read = await this.gunzipLines(c.path, skip);
      result.bytes += read.bytes;
      result.lines += read.lines;
      const state: FileCheckpoint = {
        key,
        path: c.path,
        offset: skip + read.bytes,
        headLength: 0,
        headHash: "",
        done: true,
        seenAt: this.opts.now(),
      };
      this.known.set(key, state);
      this.changed = true;
    } catch (e) {
      result.problems.push(`${c.path}: ${(e as Error).message}`);
    }
  }

  /**
   * The plain file a .gz was made from: the identity last seen at its name without ".gz"; or, when
   * the agent was down while kubelet rotated and compressed, the vanished live file (N.log) whose
   * recorded first bytes are the first bytes of the .gz.
   */
  private async originOf(key: string, path: string): Promise<FileCheckpoint | undefined> {
    if (!path.endsWith(".gz")) return undefined;
    const stem = path.slice(0, -3);
    const known = [...this.known.values()].filter((f) => f.key !== key && !f.done);
    const exact = known.find((f) => f.path === stem);
    if (exact) return exact;
    const live = stem.replace(/\.\d{8}-\d{6}$/, "");
    if (live === stem) return undefined;
    for (const f of known) {
      if (f.path !== live || f.headLength === 0 || this.tracked.has(f.key)) continue;
      if (sha1(await gunzipHead(path, f.headLength)) === f.headHash) return f;
    }
    return undefined;
  }

  private async gunzipLines(path: string, skip: number): Promise<{ bytes: number; lines: number }> {
    const sink = this.opts.sinkFor(path);
    let position = 0;
    let carry: Buffer = Buffer.alloc(0);
    let bytes = 0;
    let lines = 0;
    const source = createReadStream(path);
    const stream = source.pipe(await gunzip());
    try {
      for await (const piece of stream as AsyncIterable<Buffer>) {
        const chunk = position >= skip ? piece : piece.subarray(Math.min(piece.length, skip - position));
        position += piece.length;
        if (chunk.length === 0) continue;
        const text = carry.length > 0 ? Buffer.concat([carry, chunk]) : chunk;
        const end = text.lastIndexOf(NEWLINE) + 1;
        lines += pushLines(sink, text.subarray(0, end));
        bytes += end;
        carry = Buffer.from(text.subarray(end));
      }
    } finally {
      source.destroy();
    }
    if (carry.length > 0) {
      sink.pushLine(carry.toString("utf8"), carry.length);
      bytes += carry.length;
      lines++;
    }
    sink.flush();
    return { bytes, lines };
  }
}
