// The incremental scanner: physical lines in, a LogScan out.
//
// Hot path. Lines arrive in blocks (one decoded string holding many lines). Per line the scanner
// only finds the line end, looks at a few leading characters (envelope? does it start a record?)
// and compares the line end with the position of the next anchor hit in the block, found with
// String.prototype.indexOf once per anchor rather than per line. A record is remembered as a range
// of the block, and only a record containing an anchor hit is ever sliced, decoded, joined and
// tested against the signatures. Timestamps are parsed for the first and last timestamped lines and
// for the records that are tested.

import type { FingerprintHit, LogFormat, LogScan, SignalStat, SignatureRole } from "../model/logs.js";
import {
  BIT_CRI,
  BIT_DOCKER,
  BIT_PLAIN,
  ENV_CRI,
  ENV_NONE,
  FORMAT_BITS,
  LineInfo,
  START_FELIX,
  START_NONE,
  type StartKind,
  classifyLine,
  messageOf,
  stampOf,
  startFormatBit,
  startKind,
  startStamped,
} from "./lines.js";
import type { Signature } from "../model/advisory.js";
import { LiteralPresence, matchSignature, type LiteralFinder, type SignatureSet } from "./signatures.js";
import { classifyBytes, isoShapeBytes, startKindBytes } from "./bytes.js";
import { looksShaped, shipperRecord } from "./normalise.js";
import { isoShape, parseLeading, resolveStamp, toIso, type Stamp, type YearHint } from "./time.js";

export interface ScanOptions {
  /** Max sample lines kept per signature (default 3). */
  sampleLimit?: number;
  /** A physical line longer than this is truncated for matching and counted in `LogScan`-level stats (default 1 MiB). */
  maxLineBytes?: number;
  /** A multi-line record stops growing after this many lines (default 400). */
  maxRecordLines?: number;
  /**
   * When the source has syslog/klog stamps (no year) and no full timestamp to borrow a year from,
   * the year is the latest one that does not put them after this time (scanLogFile passes the
   * file's mtime). Without either, such stamps are omitted.
   */
  referenceTime?: Date;
  /**
   * Called once per record that matches a signature, as soon as the record is complete (the next
   * record starts, or flush() is called): how incremental consumers such as the node agent see
   * matches without waiting for finish().
   */
  onMatch?: (match: SignatureMatch) => void;
  /**
   * Called as the source is read (about every 4 MiB, and at the end) with the bytes read so far and,
   * for a regular file, its size (for gzip both count compressed bytes). The library never prints.
   */
  onProgress?: (bytesRead: number, totalBytes: number | undefined) => void;
}

/** One matched record, as reported to ScanOptions.onMatch. */
export interface SignatureMatch {
  advisoryId: string;
  signatureId: string;
  role: SignatureRole;
  /** The record's time (ms since the epoch) when it carried a full timestamp. */
  time?: number;
}

/** Kinds of a run of lines found by the line kernel (see kernel.ts and line-kernel.wat). */
export const RUN_OTHER = 0;
export const RUN_FELIX = 1;
export const RUN_CRI_FELIX = 2;
export const RUN_CONTINUATION = 3;

/**
 * Runs of consecutive lines of one kind over a buffer (RUN_FELIX, RUN_CRI_FELIX: record starts
 * with no hit; RUN_CONTINUATION: plain lines that start no record and hold no hit; RUN_OTHER: the
 * rest), produced a batch at a time: next(from) classifies lines from `from` (a line start) and
 * returns where it stopped; the batch then holds `count` runs, each with its first line's start,
 * its kind, and that line's index in the batch (`lines` is how many lines the batch has).
 */
export interface LineRuns {
  next(from: number): number;
  readonly count: number;
  readonly lines: number;
  runStart(i: number): number;
  runKind(i: number): number;
  runLine(i: number): number;
}

const SAMPLE_CHARS = 300;
const NO_HITS: readonly number[] = [];
const NO_HIT = Number.POSITIVE_INFINITY;

interface SignalAcc {
  count: number;
  first: Stamp | undefined;
  last: Stamp | undefined;
  samples: string[];
}

interface Pending {
  text: string;
  stamp: Stamp | undefined;
}

function clip(line: string): string {
  return line.length > SAMPLE_CHARS ? line.slice(0, SAMPLE_CHARS) : line;
}

// Felix header: `<date> <time> [LEVEL][pid] [dir/]file.go <line>: <message>`.
// Felix's caller tag, wherever the header puts it: after Felix's own timestamp, after a
// `kubectl logs --timestamps` prefix, or at the very start when a shipper dropped the timestamp.
const FELIX_CALLER = /\[[A-Z]+\]\[\d+\] (?:\S*\/)?([^\s/]+\.go) (\d+): /;

/** Incremental scanner for one log source: push physical lines (already split, without the newline), then finish(). */
export class LogScanner {
  private readonly set: SignatureSet;
  private readonly sampleLimit: number;
  private readonly maxLineBytes: number;
  private readonly maxRecordLines: number;
  private readonly maxRecordChars: number;
  private readonly referenceTime: Date | undefined;
  private readonly onMatch: ((match: SignatureMatch) => void) | undefined;

  private bytes = 0;
  private lines = 0;
  private records = 0;
  private truncated = 0;
  private formatBits = 0;
  private firstStamp: Stamp | undefined;
  private yearNear: number | undefined;
  /** The last physical line carrying a timestamp: a range of the current block, then a copy. */
  private lastStart = -1;
  private lastEnd = -1;
  private lastLine: string | undefined;

  private block = "";
  private readonly info = new LineInfo();
  /** A private copy of the set's anchor pattern (a global RegExp carries lastIndex state). */
  private readonly anchorPattern: RegExp | undefined;
  private minNext = -1;

  // The open record: decoded or raw parts from earlier, plus a raw range of the current block.
  private recOpen = false;
  private recLines = 0;
  private recChars = 0;
  private recHot = false;
  private recEnvelope = false;
  private recParts: string[] = [];
  private recPartRaw: boolean[] = [];
  private recRawStart = -1;
  private recRawEnd = -1;
  private recStamp: Stamp | undefined;

  private readonly pending: [Pending | undefined, Pending | undefined] = [undefined, undefined];
  private readonly bulk = new BulkState();
  private readonly spanHits: number[] = [];
  private readonly presence: LiteralPresence;
  private readonly signals: SignalAcc[];
  private readonly fingerprintCounts: number[];
  /**
   * Whether to notice lines that carry a capture shape (a `> ` quote, a kubectl prefix, a JSON
   * record...) which a plain read does not unwrap: a file planned as plain from its head can turn
   * shaped later (a ticket with pages of prose, then a paste). Off where lines are unwrapped already.
   */
  watchShapes = true;
  private shapedLines = 0;

  constructor(set: SignatureSet, options: ScanOptions = {}) {
    this.set = set;
    this.sampleLimit = Math.max(0, options.sampleLimit ?? 3);
    this.maxLineBytes = Math.max(1, options.maxLineBytes ?? 1024 * 1024);
    this.maxRecordLines = Math.max(1, options.maxRecordLines ?? 400);
    this.maxRecordChars = Math.max(4 * 1024 * 1024, 2 * this.maxLineBytes);
    this.referenceTime = options.referenceTime;
    this.onMatch = options.onMatch;
    this.anchorPattern = set.anchorPattern ? new RegExp(set.anchorPattern) : undefined;
    this.presence = new LiteralPresence(set.literals);
    this.signals = set.signatures.map(() => ({ count: 0, first: undefined, last: undefined, samples: [] }));
    this.fingerprintCounts = set.fingerprints.map(() => 0);
  }

  /** The line byte cap in effect. */
  get lineLimit(): number {
    return this.maxLineBytes;
  }

  /** @internal Finds a record's prefilter literals in one pass (see LiteralFinder). */
  useLiteralFinder(finder: LiteralFinder): void {
    this.presence.finder = finder;
  }

  /** Pushes one physical line (without its newline). `byteLength` defaults to its UTF-8 size plus the newline. */
  pushLine(line: string, byteLength?: number): void {
    const size = byteLength ?? Buffer.byteLength(line, "utf8") + 1;
    if (line.length > this.maxLineBytes || size > this.maxLineBytes + 2) {
      const cut = Buffer.from(line, "utf8").subarray(0, this.maxLineBytes).toString("utf8");
      this.pushBlock(cut.includes("\n") ? cut.replace(/\n/g, " ") : cut, size, true);
      return;
    }
    this.pushBlock(line.includes("\n") ? line.replace(/\n/g, " ") : line, size, false);
  }

  /**
   * @internal Pushes a block of complete lines separated by "\n" (no trailing newline); `bytes` is
   * its size in the source. `truncated` marks a single line that was cut at maxLineBytes.
   */
  pushBlock(text: string, bytes: number, truncated = false): void {
    this.bytes += bytes;
    if (truncated) this.truncated++;
    this.block = text;
    this.minNext = -1;
    let pos = 0;
    for (;;) {
      const nl = text.indexOf("\n", pos);
      const lineEnd = nl < 0 ? text.length : nl;
      this.physicalLine(pos, lineEnd);
      if (nl < 0) break;
      pos = nl + 1;
    }
    this.endBlock();
  }

  /**
   * Ends the open record here, as if the next line started a new one, so it is tested now. For a
   * source that has paused (a tailed file with no new data): writers emit a record in one write.
   * CRI partial lines still waiting for their final fragment stay pending.
   */
  flush(): void {
    this.closeRecord();
  }

  /** Closes the source and returns what was found. The scanner must not be used afterwards. */
  finish(): LogScan {
    for (const stream of [0, 1] as const) {
      const left = this.pending[stream];
      if (left) {
        this.pending[stream] = undefined;
        this.logicalLine(left.text, left.stamp);
      }
    }
    this.closeRecord();
    const hint: YearHint = {};
    if (this.yearNear !== undefined) hint.near = this.yearNear;
    else if (this.referenceTime) hint.notAfter = this.referenceTime.getTime();
    const lastStamp = this.lastLine === undefined ? undefined : this.stampOfLine(this.lastLine);
    const scan: LogScan = {
      bytes: this.bytes,
      lines: this.lines,
      records: this.records,
      formats: this.formats(),
      signals: this.signalStats(hint),
      fingerprints: this.fingerprintHits(),
    };
    const first = toIso(resolveStamp(this.firstStamp, hint));
    const last = toIso(resolveStamp(lastStamp, hint));
    if (first !== undefined) scan.firstTimestamp = first;
    if (last !== undefined) scan.lastTimestamp = last;
    if (this.truncated > 0) scan.truncatedLines = this.truncated;
    if (this.shapedLines > 0) scan.shapedLines = this.shapedLines;
    return scan;
  }

  /**
   * @internal The bulk path: scans the complete ASCII lines in buf[start, end) (end just past a
   * "\n") with the same results as pushing them one by one, but without decoding text. Lines that
   * need more than counting (a `hits` position, a timestamp still to be parsed, a CRI/docker partial,
   * an over-long line, the rest of a record already being assembled) go to the exact path as whole
   * records from their first line. Returns where it stopped: `end`, or the start of the record still
   * open, whose lines the caller must pass again with what follows (or to the exact path at the end).
   */
  scanAscii(buf: Buffer, start: number, end: number, hits: readonly number[]): number {
    this.bulk.reset();
    this.bulkLines(buf, start, end, hits);
    return this.endBulk(buf, start, end);
  }

  /**
   * @internal scanAscii() with the lines already sorted by the line kernel: runs of ordinary lines
   * are counted as a whole, the lines in between take the per-line path with the hits `hitsIn` finds
   * in them. Same results as scanAscii().
   */
  scanAsciiRuns(
    buf: Buffer,
    start: number,
    end: number,
    runs: LineRuns,
    hitsIn: (from: number, to: number, out: number[]) => void,
  ): number {
    this.bulk.reset();
    const hits = this.spanHits;
    let pos = start;
    while (pos < end) {
      const stop = runs.next(pos);
      if (stop <= pos) {
        // No complete line left (not expected: `end` follows a "\n"): the per-line path decides.
        hitsIn(pos, end, hits);
        this.bulkLines(buf, pos, end, hits);
        break;
      }
      const count = runs.count;
      for (let i = 0; i < count; i++) {
        const from = runs.runStart(i);
        const last = i + 1 === count;
        const to = last ? stop : runs.runStart(i + 1);
        const kind = runs.runKind(i);
        if (kind === RUN_OTHER) {
          hitsIn(from, to, hits);
          this.bulkLines(buf, from, to, hits);
        } else if (kind === RUN_CONTINUATION) {
          // Inside a run for the exact path these lines only extend it (bulkLine would return at
          // once for each); otherwise they are counted one by one.
          if (this.bulk.runStart < 0) this.bulkLines(buf, from, to, NO_HITS);
        } else {
          const lines = (last ? runs.lines : runs.runLine(i + 1)) - runs.runLine(i);
          this.bulkRun(buf, from, to, lines, kind === RUN_CRI_FELIX);
        }
      }
      pos = stop;
    }
    return this.endBulk(buf, start, end);
  }

  /** The per-line bulk path over the complete lines of buf[from, to). */
  private bulkLines(buf: Buffer, from: number, to: number, hits: readonly number[]): void {
    let h = 0;
    let pos = from;
    while (pos < to) {
      const nl = buf.indexOf(10, pos);
      const lineEnd = nl < 0 || nl >= to ? to - 1 : nl;
      while (h < hits.length && (hits[h] ?? 0) < pos) h++;
      const hot = h < hits.length && (hits[h] ?? 0) < lineEnd;
      this.bulkLine(buf, pos, lineEnd, hot);
      pos = lineEnd + 1;
    }
  }

  /** What scanAscii() does once every line was seen: settle the open run and record. */
  private endBulk(buf: Buffer, start: number, end: number): number {
    const st = this.bulk;
    if (st.runStart >= 0) this.flushRun(buf, end);
    let stop = end;
    if (this.recOpen && this.recParts.length === 0 && st.snapPos >= 0) {
      if (st.snapPos === start) {
        // The record fills the buffer: carrying it would make no progress, so the exact path takes
        // it (and whatever of it follows in the next buffer).
        this.rewind();
        st.runStart = st.snapPos;
        this.flushRun(buf, end);
      } else {
        stop = st.snapPos;
        this.rewind();
      }
    }
    this.commitLast(buf);
    return stop;
  }

  /**
   * `lines` ordinary lines in buf[from, to): Felix record starts (inside complete CRI lines when
   * `cri`) that hold no hit and fit the line cap. Once nothing is pending (no exact-path run, no CRI
   * fragment, the first timestamp and its year known) all but the last are counted at once; each
   * would only have closed the record before it. The last goes the per-line way, so the state it
   * leaves (snapshot, last timestamped line) is exactly that of the per-line path.
   */
  private bulkRun(buf: Buffer, from: number, to: number, lines: number, cri: boolean): void {
    let pos = from;
    let left = lines;
    while (left > 0) {
      if (left >= 2 && this.settled()) {
        const lastLine = buf.lastIndexOf(10, to - 2) + 1;
        const counted = left - 1;
        this.closeRecord();
        this.records += counted - 1;
        this.recOpen = true;
        this.lines += counted;
        this.bytes += lastLine - pos;
        this.formatBits |= startFormatBit(START_FELIX) | (cri ? BIT_CRI : 0);
        pos = lastLine;
        left = 1;
      }
      const nl = buf.indexOf(10, pos);
      this.bulkLine(buf, pos, nl, false);
      pos = nl + 1;
      left--;
    }
  }

  /** Whether a Felix record start would now just be counted by countBulk(). */
  private settled(): boolean {
    return (
      this.bulk.runStart < 0 &&
      this.pending[0] === undefined &&
      this.pending[1] === undefined &&
      this.firstStamp !== undefined &&
      this.yearNear !== undefined
    );
  }

  private bulkLine(buf: Buffer, pos: number, lineEnd: number, hot: boolean): void {
    const st = this.bulk;
    const end = lineEnd > pos && buf[lineEnd - 1] === 13 ? lineEnd - 1 : lineEnd;
    const info = this.info;
    classifyBytes(buf, pos, end, lineEnd, info);
    const kind = startKindBytes(buf, info.msgStart, lineEnd);
    const local = hot || lineEnd - pos > this.maxLineBytes || (info.envelope !== ENV_NONE && info.partial);
    if (st.runStart >= 0) {
      // A run for the exact path is open: it takes every line up to the next plain record start.
      if (local || kind === START_NONE) return;
      this.flushRun(buf, pos);
    }
    const joins = info.envelope !== ENV_NONE && (info.partial || this.pending[info.stream] !== undefined);
    const starts = kind !== START_NONE && !joins;
    if (local || joins || this.needsStamp(buf, lineEnd, kind) || (!starts && this.recParts.length > 0)) {
      this.startRun(pos, starts);
      return;
    }
    this.countBulk(pos, lineEnd, end, kind, starts);
  }

  /** What physicalLine() does for a line that needs nothing but counting. */
  private countBulk(pos: number, lineEnd: number, end: number, kind: StartKind, starts: boolean): void {
    const st = this.bulk;
    const info = this.info;
    const full = this.recLines >= this.maxRecordLines || this.recChars >= this.maxRecordChars;
    if (starts || !this.recOpen || full) this.openBulkRecord(pos);
    if (info.envelope !== ENV_NONE) this.formatBits |= info.envelope === ENV_CRI ? BIT_CRI : BIT_DOCKER;
    if (starts) this.formatBits |= startFormatBit(kind);
    if (info.envelope !== ENV_NONE || startStamped(kind)) {
      st.lastStart = pos;
      st.lastEnd = end;
    }
    this.lines++;
    this.bytes += lineEnd + 1 - pos;
    this.recLines++;
    this.recChars += end - pos;
  }

  /** Whether noteTimestamp() would parse this line's stamp (the first one, or a year still missing). */
  private needsStamp(buf: Buffer, lineEnd: number, kind: StartKind): boolean {
    const info = this.info;
    if (info.envelope === ENV_NONE && !startStamped(kind)) return false;
    if (this.firstStamp === undefined) return true;
    if (this.yearNear !== undefined) return false;
    return info.envelope !== ENV_NONE || isoShapeBytes(buf, info.msgStart, lineEnd) !== 0;
  }

  /** Opens a run for the exact path at `pos`; a continuation of a bulk record restarts at its first line. */
  private startRun(pos: number, starts: boolean): void {
    const st = this.bulk;
    if (!starts && this.recOpen && this.recParts.length === 0 && st.snapPos >= 0) {
      this.rewind();
      st.runStart = st.snapPos;
    } else {
      st.runStart = pos;
    }
  }

  /** Closes the open record and opens one that starts at `pos`, remembering how to undo both. */
  private openBulkRecord(pos: number): void {
    const st = this.bulk;
    this.closeRecord();
    st.snapPos = pos;
    st.snapLines = this.lines;
    st.snapBytes = this.bytes;
    st.snapRecords = this.records;
    st.snapBits = this.formatBits;
    st.snapLastStart = st.lastStart;
    st.snapLastEnd = st.lastEnd;
    this.recOpen = true;
  }

  /** Undoes the bulk record that started at snapPos (its lines will be scanned again). */
  private rewind(): void {
    const st = this.bulk;
    this.lines = st.snapLines;
    this.bytes = st.snapBytes;
    this.records = st.snapRecords;
    this.formatBits = st.snapBits;
    st.lastStart = st.snapLastStart;
    st.lastEnd = st.snapLastEnd;
    this.recOpen = false;
    this.recLines = 0;
    this.recChars = 0;
  }

  /** The last timestamped line seen in bulk becomes the scanner's last line. */
  private commitLast(buf: Buffer): void {
    const st = this.bulk;
    if (st.lastStart >= 0) this.lastLine = buf.toString("latin1", st.lastStart, st.lastEnd);
    st.lastStart = -1;
    st.lastEnd = -1;
  }

  /** Sends the run's lines [runStart, end) (end just past a "\n") through the exact path. */
  private flushRun(buf: Buffer, end: number): void {
    const st = this.bulk;
    const start = st.runStart;
    st.runStart = -1;
    st.snapPos = -1;
    this.commitLast(buf);
    pushLines(this, buf, start, end - 1, this.maxLineBytes);
  }

  /** Finds the first anchor hit at or after `pos` in the block. */
  private advanceAnchors(pos: number): void {
    const pattern = this.anchorPattern;
    if (!pattern) {
      this.minNext = NO_HIT;
      return;
    }
    pattern.lastIndex = pos;
    const hit = pattern.exec(this.block);
    this.minNext = hit ? hit.index : NO_HIT;
  }

  private physicalLine(start: number, lineEnd: number): void {
    const text = this.block;
    const end = lineEnd > start && text.charCodeAt(lineEnd - 1) === 13 ? lineEnd - 1 : lineEnd;
    this.lines++;
    const info = this.info;
    classifyLine(text, start, end, info);
    const kind = startKind(text, info.msgStart);
    if (info.envelope !== ENV_NONE) {
      this.formatBits |= info.envelope === ENV_CRI ? BIT_CRI : BIT_DOCKER;
    } else if (
      kind === START_NONE &&
      this.shapedLines === 0 &&
      this.watchShapes &&
      looksShaped(text, start, end)
    ) {
      // Only lines the exact path sees get here (on the bulk path: those near a prefilter hit),
      // which is where a shaped record would matter.
      this.shapedLines++;
    }
    if (info.envelope !== ENV_NONE || startStamped(kind)) this.noteTimestamp(start, end, info);
    if (info.envelope !== ENV_NONE && (info.partial || this.pending[info.stream] !== undefined)) {
      // A `{"log":"...` line without its newline is a split Docker line, unless it is a shipper's
      // record in Docker's byte layout (Fluent Bit's, with its `kubernetes` fields).
      if (info.partial && this.shapedLines === 0 && this.watchShapes && shipperRecord(text, start, end))
        this.shapedLines++;
      this.joinPartial(text.slice(start, end), info.partial);
      return;
    }
    this.beginOrContinue(kind);
    if (this.recRawStart < 0) this.recRawStart = start;
    this.recRawEnd = end;
    this.recLines++;
    this.recChars += end - start;
    // Anchor hits only matter until the record is known to be hot: the rest of a hot record is
    // skipped by the next search, which starts at the next record's first unsettled line.
    if (!this.recHot) {
      if (this.minNext < start) this.advanceAnchors(start);
      if (this.minNext < lineEnd) this.recHot = true;
    }
    if (info.envelope !== ENV_NONE) this.recEnvelope = true;
  }

  private noteTimestamp(start: number, end: number, info: LineInfo): void {
    this.lastStart = start;
    this.lastEnd = end;
    if (this.firstStamp !== undefined) {
      // Still looking for a full timestamp to give syslog/klog stamps a year: only ISO ones have it.
      if (this.yearNear !== undefined) return;
      if (info.envelope === ENV_NONE && isoShape(this.block, info.msgStart) === 0) return;
    }
    const stamp = this.stampOfLine(this.block.slice(start, end));
    if (stamp === undefined) return;
    this.firstStamp ??= stamp;
    if (this.yearNear === undefined && stamp.kind === "full") this.yearNear = stamp.ms;
  }

  private stampOfLine(line: string): Stamp | undefined {
    const info = new LineInfo();
    classifyLine(line, 0, line.length, info);
    return stampOf(line, info);
  }

  /** A CRI "P" fragment, or the line that completes pending fragments of the same stream. */
  private joinPartial(line: string, partial: boolean): void {
    const info = new LineInfo();
    classifyLine(line, 0, line.length, info);
    const message = messageOf(line, info);
    const slot = this.pending[info.stream];
    const joined: Pending = slot
      ? { text: slot.text + message, stamp: slot.stamp }
      : { text: message, stamp: stampOf(line, info) };
    const tooLong = joined.text.length >= this.maxLineBytes;
    if (partial && !tooLong) {
      this.pending[info.stream] = joined;
      return;
    }
    this.pending[info.stream] = undefined;
    if (tooLong) {
      joined.text = joined.text.slice(0, this.maxLineBytes);
      this.truncated++;
    }
    this.logicalLine(joined.text, joined.stamp);
  }

  /** A line that starts a record closes the open one; a bounded record also ends at its limits. */
  private beginOrContinue(kind: StartKind): void {
    if (kind !== START_NONE) {
      this.closeRecord();
      this.formatBits |= startFormatBit(kind);
      this.recOpen = true;
    } else if (
      !this.recOpen ||
      this.recLines >= this.maxRecordLines ||
      this.recChars >= this.maxRecordChars
    ) {
      this.closeRecord();
      this.recOpen = true;
    }
  }

  /** A decoded logical line (joined fragments): always assembled and tested. */
  private logicalLine(message: string, stamp: Stamp | undefined): void {
    const kind = startKind(message, 0);
    this.beginOrContinue(kind);
    this.flushRaw();
    if (this.recParts.length === 0) this.recStamp = stamp ?? parseLeading(message, 0)?.stamp;
    this.recParts.push(message);
    this.recPartRaw.push(false);
    this.recLines++;
    this.recChars += message.length;
    this.recHot = true;
  }

  /** Moves the record's raw range of the current block into its parts. */
  private flushRaw(): void {
    if (this.recRawStart < 0) return;
    this.recParts.push(this.block.slice(this.recRawStart, this.recRawEnd));
    this.recPartRaw.push(true);
    this.recRawStart = -1;
    this.recRawEnd = -1;
  }

  private endBlock(): void {
    if (this.recOpen) this.flushRaw();
    if (this.lastStart >= 0) {
      this.lastLine = this.block.slice(this.lastStart, this.lastEnd);
      this.lastStart = -1;
    }
    this.block = "";
  }

  private closeRecord(): void {
    if (!this.recOpen) return;
    this.records++;
    if (this.recHot) {
      this.flushRaw();
      this.evaluate();
    }
    this.recOpen = false;
    this.recHot = false;
    this.recEnvelope = false;
    this.recLines = 0;
    this.recChars = 0;
    this.recParts = [];
    this.recPartRaw = [];
    this.recRawStart = -1;
    this.recRawEnd = -1;
    this.recStamp = undefined;
  }

  /** Decodes the record's parts into one text (lines joined by "\n") and its timestamp. */
  private assemble(): { text: string; stamp: Stamp | undefined } {
    const pieces: string[] = [];
    let stamp = this.recStamp;
    this.recParts.forEach((part, i) => {
      if (!this.recPartRaw[i]) {
        pieces.push(part);
        return;
      }
      if (i === 0) stamp = this.stampOfLine(firstLine(part));
      if (!this.recEnvelope) {
        pieces.push(part.includes("\r") ? part.replace(/\r\n/g, "\n") : part);
        return;
      }
      const info = new LineInfo();
      for (const raw of part.split("\n")) {
        const line = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
        classifyLine(line, 0, line.length, info);
        pieces.push(messageOf(line, info));
      }
    });
    return { text: pieces.join("\n"), stamp };
  }

  private evaluate(): void {
    const { text, stamp } = this.assemble();
    const headerEnd = lineEndAt(text, 0);
    this.presence.reset(text);
    this.set.signatures.forEach((sig, i) => {
      const decidedAt = matchSignature(sig, text, headerEnd, this.presence);
      const acc = this.signals[i];
      if (decidedAt < 0 || !acc) return;
      acc.count++;
      if (stamp) {
        acc.first ??= stamp;
        acc.last = stamp;
      }
      if (acc.samples.length < this.sampleLimit) acc.samples.push(sampleOf(text, headerEnd, decidedAt));
      if (this.onMatch) this.reportMatch(sig.advisoryId, sig.signature, stamp);
    });
    if (this.set.fingerprints.length > 0) this.countFingerprints(text.slice(0, headerEnd));
  }

  private reportMatch(advisoryId: string, signature: Signature, stamp: Stamp | undefined): void {
    const match: SignatureMatch = { advisoryId, signatureId: signature.id, role: signature.role };
    if (stamp?.kind === "full") match.time = stamp.ms;
    this.onMatch?.(match);
  }

  private countFingerprints(header: string): void {
    const m = FELIX_CALLER.exec(header);
    if (!m) return;
    const ids = this.set.fingerprintsByKey.get(`${m[1] ?? ""}:${m[2] ?? ""}`);
    if (!ids) return;
    const message = header.slice(m.index + m[0].length);
    for (const id of ids) {
      const fp = this.set.fingerprints[id];
      if (fp && message.includes(fp.fingerprint.message)) {
        this.fingerprintCounts[id] = (this.fingerprintCounts[id] ?? 0) + 1;
      }
    }
  }

  private formats(): LogFormat[] {
    const bits = this.formatBits === 0 && this.lines > 0 ? BIT_PLAIN : this.formatBits;
    return FORMAT_BITS.filter(([, bit]) => (bits & bit) !== 0).map(([name]) => name);
  }

  private signalStats(hint: YearHint): SignalStat[] {
    const out: SignalStat[] = [];
    this.set.signatures.forEach((sig, i) => {
      const acc = this.signals[i];
      if (!acc || acc.count === 0) return;
      const stat: SignalStat = {
        advisoryId: sig.advisoryId,
        signatureId: sig.signature.id,
        role: sig.signature.role,
        count: acc.count,
        samples: acc.samples,
      };
      const first = resolveStamp(acc.first, hint);
      const last = resolveStamp(acc.last, hint);
      if (first !== undefined && last !== undefined) {
        stat.firstSeen = toIso(first);
        stat.lastSeen = toIso(last);
        const span = Math.abs(last - first);
        if (span >= 60_000) stat.ratePerHour = acc.count / (span / 3_600_000);
      }
      out.push(stat);
    });
    return out;
  }

  private fingerprintHits(): FingerprintHit[] {
    const out: FingerprintHit[] = [];
    this.set.fingerprints.forEach((fp, i) => {
      const count = this.fingerprintCounts[i] ?? 0;
      if (count === 0) return;
      out.push({
        advisoryId: fp.advisoryId,
        fingerprintId: fp.fingerprint.id,
        file: fp.fingerprint.file,
        line: fp.fingerprint.line,
        versions: [...fp.fingerprint.versions],
        count,
      });
    });
    return out;
  }
}

const BLOCK_BYTES = 1024 * 1024;

/** Where the bulk path is within one buffer, and the scanner state to return to on a rewind. */
class BulkState {
  /** Start of the lines waiting for the exact path, or -1. */
  runStart = -1;
  /** Start of the record opened in bulk (-1 when the open record is not a bulk one). */
  snapPos = -1;
  snapLines = 0;
  snapBytes = 0;
  snapRecords = 0;
  snapBits = 0;
  snapLastStart = -1;
  snapLastEnd = -1;
  /** The last timestamped line seen in bulk since the last commit. */
  lastStart = -1;
  lastEnd = -1;

  reset(): void {
    this.runStart = -1;
    this.snapPos = -1;
    this.lastStart = -1;
    this.lastEnd = -1;
  }
}

/**
 * Pushes the lines of buf[start, end) (end is the last "\n", excluded) as blocks, cutting lines
 * longer than `maxLine` bytes the way the reader does.
 */
export function pushLines(
  scanner: LogScanner,
  buf: Buffer,
  start: number,
  end: number,
  maxLine: number,
): void {
  if (end < start) return;
  if (end - start <= maxLine) {
    // Blocks of about 1 MiB: a storm's hot text is decoded a piece at a time, not all at once.
    let from = start;
    while (end - from > BLOCK_BYTES) {
      const nl = buf.lastIndexOf(10, from + BLOCK_BYTES);
      if (nl < from) break;
      scanner.pushBlock(buf.toString("utf8", from, nl), nl - from + 1);
      from = nl + 1;
    }
    scanner.pushBlock(buf.toString("utf8", from, end), end - from + 1);
    return;
  }
  let runStart = start;
  let pos = start;
  while (pos <= end) {
    const nl = buf.indexOf(10, pos);
    const lineEnd = nl < 0 || nl > end ? end : nl;
    if (pos - runStart >= BLOCK_BYTES) {
      scanner.pushBlock(buf.toString("utf8", runStart, pos - 1), pos - runStart);
      runStart = pos;
    }
    if (lineEnd - pos > maxLine) {
      if (pos > runStart) scanner.pushBlock(buf.toString("utf8", runStart, pos - 1), pos - runStart);
      scanner.pushBlock(buf.toString("utf8", pos, pos + maxLine), lineEnd - pos + 1, true);
      runStart = lineEnd + 1;
    }
    pos = lineEnd + 1;
  }
  if (runStart <= end) scanner.pushBlock(buf.toString("utf8", runStart, end), end - runStart + 1);
}

function lineEndAt(text: string, from: number): number {
  const nl = text.indexOf("\n", from);
  return nl < 0 ? text.length : nl;
}

function firstLine(text: string): string {
  return text.slice(0, lineEndAt(text, 0));
}

function sampleOf(text: string, headerEnd: number, decidedAt: number): string {
  const head = clip(text.slice(0, headerEnd));
  if (decidedAt <= headerEnd) return detached(head);
  const lineStart = text.lastIndexOf("\n", decidedAt) + 1;
  return detached(`${head}\n${clip(text.slice(lineStart, lineEndAt(text, decidedAt)))}`);
}

/**
 * A copy of `s` that shares no memory with the text it was cut from. V8 keeps a substring as a view
 * of its parent, so a 200-character sample would hold the whole decoded read buffer it came from
 * (tens of KB) for as long as the scan result lives: measured, ~20 MB per 1,000 pods in a live
 * scan. Samples are few, so the copy is cheap.
 */
function detached(s: string): string {
  return Buffer.from(s, "utf8").toString("utf8");
}
