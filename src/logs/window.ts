// Time windows (--since/--until) on raw log bytes. A line's time is its full timestamp: the CRI
// envelope time, docker's "time" field, or a leading ISO/RFC 3339 stamp (Felix). Lines without one
// (continuation lines, yearless syslog/klog stamps) take the state of the last line that had one,
// so a record is in or out as a whole; at the start of a file, before any timestamp, they are out
// when there is a lower bound and in otherwise. Both bounds are inclusive.
//
// Uncompressed files are not filtered line by line: a binary search on byte offsets finds the first
// line inside the window and the first line after it, and only that range is scanned (timestamps
// are assumed not to go backwards). Streams and gzip members go through WindowFilter.

import type { FileHandle } from "node:fs/promises";
import { parseIso, parseLeading } from "./time.js";

const NEWLINE = 10;
const PROBE_BYTES = 64 * 1024;
const DOCKER_TIME = Buffer.from('"time":"');
const DOCKER_PREFIX = Buffer.from('{"log":"');

/** Resolved bounds in ms since the epoch (inclusive). */
export interface TimeWindow {
  sinceMs?: number;
  untilMs?: number;
}

/** The full timestamp of the line buf[start, end) in ms, or NaN when it has none. */
export function lineStampMs(buf: Buffer, start: number, end: number): number {
  if (end <= start) return Number.NaN;
  const first = buf[start] ?? 0;
  if (first === 0x7b) {
    if (!buf.subarray(start, start + DOCKER_PREFIX.length).equals(DOCKER_PREFIX)) return Number.NaN;
    const at = buf.lastIndexOf(DOCKER_TIME, end - DOCKER_TIME.length);
    if (at > start) {
      const parsed = parseIso(buf.toString("latin1", at + 8, Math.min(end, at + 48)), 0);
      if (parsed?.stamp.kind === "full") return parsed.stamp.ms;
    }
    const lead = parseLeading(buf.toString("latin1", start + 8, Math.min(end, start + 48)), 0);
    return lead?.stamp.kind === "full" ? lead.stamp.ms : Number.NaN;
  }
  if (first < 0x30 || first > 0x39) return Number.NaN;
  const parsed = parseIso(buf.toString("latin1", start, Math.min(end, start + 40)), 0);
  return parsed?.stamp.kind === "full" ? parsed.stamp.ms : Number.NaN;
}

/** Whether a line stamped `ms` is inside the window. */
export function insideWindow(window: TimeWindow, ms: number): boolean {
  return (
    (window.sinceMs === undefined || ms >= window.sinceMs) &&
    (window.untilMs === undefined || ms <= window.untilMs)
  );
}

/** Where a line stands: in or out of the window, before any timestamp was seen. */
export function initialState(window: TimeWindow): boolean {
  return window.sinceMs === undefined;
}

/** What WindowFilter passes its in-window bytes to (FastFeeder). */
export interface ByteSink {
  feed(chunk: Buffer): void;
  end(): void;
}

/**
 * Passes on only the lines inside the window, as they arrive in chunks of any size. A line without
 * its "\n" yet is held until it is complete (over `holdLimit` bytes, it is passed on in the state
 * of the line before it).
 */
export class WindowFilter implements ByteSink {
  private inside: boolean;
  private carry: Buffer | undefined;
  /** Set while an over-long line is being passed through (or dropped) in a fixed state. */
  private streaming = false;

  constructor(
    private readonly sink: ByteSink,
    private readonly window: TimeWindow,
    private readonly holdLimit = 8 * 1024 * 1024,
  ) {
    this.inside = initialState(window);
  }

  feed(chunk: Buffer): void {
    let buf = chunk;
    if (this.carry !== undefined) {
      buf = Buffer.concat([this.carry, chunk]);
      this.carry = undefined;
    }
    let pos = 0;
    if (this.streaming) {
      const nl = buf.indexOf(NEWLINE);
      const upto = nl < 0 ? buf.length : nl + 1;
      if (this.inside) this.sink.feed(buf.subarray(0, upto));
      if (nl < 0) return;
      this.streaming = false;
      pos = upto;
    }
    let runStart = this.inside ? pos : -1;
    while (pos < buf.length) {
      const nl = buf.indexOf(NEWLINE, pos);
      if (nl < 0) break;
      runStart = this.line(buf, pos, nl, runStart);
      pos = nl + 1;
    }
    if (runStart >= 0 && runStart < pos) this.sink.feed(buf.subarray(runStart, pos));
    if (pos < buf.length) this.hold(buf.subarray(pos));
  }

  end(): void {
    const rest = this.carry;
    this.carry = undefined;
    if (rest !== undefined && rest.length > 0) {
      const ms = lineStampMs(rest, 0, rest.length);
      if (!Number.isNaN(ms)) this.inside = insideWindow(this.window, ms);
      if (this.inside) this.sink.feed(rest);
    }
    this.sink.end();
  }

  /** Updates the state at the line [pos, nl]; returns where the current in-window run starts (-1: none). */
  private line(buf: Buffer, pos: number, nl: number, runStart: number): number {
    const end = nl > pos && buf[nl - 1] === 13 ? nl - 1 : nl;
    const ms = lineStampMs(buf, pos, end);
    if (Number.isNaN(ms)) return runStart;
    const inside = insideWindow(this.window, ms);
    if (inside === this.inside) return runStart;
    this.inside = inside;
    if (inside) return pos;
    if (runStart >= 0 && runStart < pos) this.sink.feed(buf.subarray(runStart, pos));
    return -1;
  }

  private hold(rest: Buffer): void {
    if (rest.length <= this.holdLimit) {
      this.carry = Buffer.from(rest);
      return;
    }
    const ms = lineStampMs(rest, 0, Math.min(rest.length, 4096));
    if (!Number.isNaN(ms)) this.inside = insideWindow(this.window, ms);
    if (this.inside) this.sink.feed(rest);
    this.streaming = true;
  }
}

/** The first full timestamp at or after byte `from` that starts before `limit`, with its line's offsets. */
async function nextStamp(
  handle: FileHandle,
  from: number,
  limit: number,
  probe: Buffer,
): Promise<{ ms: number; start: number; next: number } | undefined> {
  let pos = from;
  let synced = from === 0;
  while (pos < limit) {
    const { bytesRead } = await handle.read(probe, 0, probe.length, pos);
    if (bytesRead === 0) return undefined;
    let at = 0;
    if (!synced) {
      const nl = probe.subarray(0, bytesRead).indexOf(NEWLINE);
      if (nl < 0) {
        pos += bytesRead;
        continue;
      }
      synced = true;
      at = nl + 1;
    }
    for (;;) {
      if (pos + at >= limit) return undefined;
      const nl = probe.subarray(0, bytesRead).indexOf(NEWLINE, at);
      if (nl < 0) break;
      const end = nl > at && probe[nl - 1] === 13 ? nl - 1 : nl;
      const ms = lineStampMs(probe, at, end);
      if (!Number.isNaN(ms)) return { ms, start: pos + at, next: pos + nl + 1 };
      at = nl + 1;
    }
    // A line longer than the probe, or the probe's last partial line: read on from its start.
    pos += at === 0 ? bytesRead : at;
    if (at === 0) synced = false;
  }
  return undefined;
}

/**
 * The byte offset of the first line whose full timestamp is >= target (the file size when none),
 * found by binary search: probe at a middle offset, sync to the next line start, read on to the
 * next timestamped line (lines without one widen the probe) and halve the range.
 */
export async function offsetOfTime(handle: FileHandle, size: number, target: number): Promise<number> {
  const probe = Buffer.allocUnsafe(PROBE_BYTES);
  let lo = 0;
  let hi = size;
  while (hi - lo > PROBE_BYTES) {
    const mid = lo + Math.floor((hi - lo) / 2);
    const found = await nextStamp(handle, mid, hi, probe);
    if (found === undefined) hi = mid;
    else if (found.ms < target) lo = found.next;
    else hi = found.start;
  }
  // Every timestamped line before `lo` is earlier than the target: walk on from there.
  for (let pos = lo; pos < size;) {
    const found = await nextStamp(handle, pos, size, probe);
    if (found === undefined) return size;
    if (found.ms >= target) return found.start;
    pos = found.next;
  }
  return size;
}

/** The last full timestamp in the final `tail` bytes of a file, or undefined. */
export async function lastStampOfFile(
  handle: FileHandle,
  size: number,
  tail = 1024 * 1024,
): Promise<number | undefined> {
  const from = Math.max(0, size - tail);
  const buf = Buffer.allocUnsafe(size - from);
  const { bytesRead } = await handle.read(buf, 0, buf.length, from);
  return lastStampIn(buf.subarray(0, bytesRead), from === 0);
}

/** The last full timestamp among the complete lines of `buf` (the first line only when `whole`). */
export function lastStampIn(buf: Buffer, whole: boolean): number | undefined {
  let end = buf.length;
  while (end > 0) {
    const nl = buf.lastIndexOf(NEWLINE, end - 1);
    if (nl < 0 && !whole) return undefined;
    const start = nl + 1;
    const lineEnd = end > start && buf[end - 1] === 13 ? end - 1 : end;
    const ms = lineStampMs(buf, start, lineEnd);
    if (!Number.isNaN(ms)) return ms;
    if (nl < 0) return undefined;
    end = nl;
  }
  return undefined;
}
