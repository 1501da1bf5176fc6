// Record assembly, the scanner's exact path: decoded blocks of physical lines in, records out. A
// record is a line that starts one plus the lines that follow and do not (see index.ts); a record
// holding a prefilter hit is decoded, joined and handed to the SignalTally, and the counters a
// LogScan reports (bytes, lines, records, formats, first and last timestamps) are kept here.
//
// Hot path. Lines arrive in blocks (one decoded string holding many lines). Per line the scanner
// only finds the line end, looks at a few leading characters (envelope? does it start a record?)
// and compares the line end with the position of the next anchor hit in the block, found with
// String.prototype.indexOf once per anchor rather than per line. A record is remembered as a range
// of the block, and only a record containing an anchor hit is ever sliced, decoded, joined and
// tested against the signatures. Timestamps are parsed for the first and last timestamped lines and
// for the records that are tested.
//
// LogScanner (scanner.ts) extends this class with the bulk path; it is the only class instantiated,
// so every call here stays monomorphic. Fields it shares with the bulk path are protected.

import type { LogScan } from "../model/logs.js";
import {
  BIT_CRI,
  BIT_DOCKER,
  ENV_CRI,
  ENV_NONE,
  LineInfo,
  START_BARE,
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
import type { ScanOptions } from "./scan-types.js";
import type { LiteralFinder, SignatureSet } from "./signatures.js";
import { formatsOf, lineEndAt, SignalTally } from "./signal-tally.js";
import { looksShaped, looksStampShaped, shipperRecord } from "./normalise.js";
import { isoShape, parseLeading, resolveStamp, toIso, type Stamp, type YearHint } from "./time.js";

const NO_HIT = Number.POSITIVE_INFINITY;

interface Pending {
  text: string;
  stamp: Stamp | undefined;
}

/** The exact path of LogScanner (scanner.ts), which is what callers construct. */
export abstract class RecordAssembler {
  protected readonly maxLineBytes: number;
  protected readonly maxRecordLines: number;
  protected readonly maxRecordChars: number;
  private readonly referenceTime: Date | undefined;
  private readonly yearNearHint: Date | undefined;
  private readonly fallbackTime: Date | undefined;

  protected bytes = 0;
  protected lines = 0;
  protected records = 0;
  private truncated = 0;
  protected formatBits = 0;
  protected firstStamp: Stamp | undefined;
  protected yearNear: number | undefined;
  /** The last physical line carrying a timestamp: a range of the current block, then a copy. */
  private lastStart = -1;
  private lastEnd = -1;
  protected lastLine: string | undefined;

  private block = "";
  protected readonly info = new LineInfo();
  /** A private copy of the set's anchor pattern (a global RegExp carries lastIndex state). */
  private readonly anchorPattern: RegExp | undefined;
  private minNext = -1;

  // The open record: decoded or raw parts from earlier, plus a raw range of the current block.
  protected recOpen = false;
  protected recLines = 0;
  protected recChars = 0;
  private recHot = false;
  private recEnvelope = false;
  protected recParts: string[] = [];
  private recPartRaw: boolean[] = [];
  private recRawStart = -1;
  private recRawEnd = -1;
  private recStamp: Stamp | undefined;

  protected readonly pending: [Pending | undefined, Pending | undefined] = [undefined, undefined];
  private readonly tally: SignalTally;
  /**
   * Whether to notice lines that carry a capture shape (a `> ` quote, a kubectl prefix, a JSON
   * record...) which a plain read does not unwrap: a file planned as plain from its head can turn
   * shaped later (a ticket with pages of prose, then a paste). Off where lines are unwrapped already.
   */
  watchShapes = true;
  private shapedLines = 0;

  constructor(set: SignatureSet, options: ScanOptions = {}) {
    this.maxLineBytes = Math.max(1, options.maxLineBytes ?? 1024 * 1024);
    this.maxRecordLines = Math.max(1, options.maxRecordLines ?? 400);
    this.maxRecordChars = Math.max(4 * 1024 * 1024, 2 * this.maxLineBytes);
    this.referenceTime = options.referenceTime;
    this.yearNearHint = options.yearNear;
    this.fallbackTime = options.fallbackTime;
    this.anchorPattern = set.anchorPattern ? new RegExp(set.anchorPattern) : undefined;
    this.tally = new SignalTally(set, Math.max(0, options.sampleLimit ?? 3), options.onMatch);
  }

  /** The line byte cap in effect. */
  get lineLimit(): number {
    return this.maxLineBytes;
  }

  /** @internal Finds a record's prefilter literals in one pass (see LiteralFinder). */
  useLiteralFinder(finder: LiteralFinder): void {
    this.tally.useLiteralFinder(finder);
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
    const { hint, yearFrom } = this.yearHint();
    const lastStamp = this.lastLine === undefined ? undefined : this.stampOfLine(this.lastLine);
    const scan: LogScan = {
      bytes: this.bytes,
      lines: this.lines,
      records: this.records,
      formats: formatsOf(this.formatBits, this.lines),
      signals: this.tally.signalStats(hint),
      fingerprints: this.tally.fingerprintHits(),
    };
    const first = toIso(resolveStamp(this.firstStamp, hint));
    const last = toIso(resolveStamp(lastStamp, hint));
    if (first !== undefined) scan.firstTimestamp = first;
    if (last !== undefined) scan.lastTimestamp = last;
    if (yearFrom !== undefined && first !== undefined) scan.yearFrom = yearFrom;
    if (this.truncated > 0) scan.truncatedLines = this.truncated;
    if (this.shapedLines > 0) scan.shapedLines = this.shapedLines;
    return scan;
  }

  /**
   * Where yearless stamps get their year: a full timestamp of this source, else the container's
   * start, else the file's modification time, else the current time (said in `yearFrom`).
   */
  private yearHint(): { hint: YearHint; yearFrom?: NonNullable<LogScan["yearFrom"]> } {
    if (this.yearNear !== undefined) return { hint: { near: this.yearNear } };
    if (this.firstStamp?.kind !== "yearless") return { hint: {} };
    if (this.yearNearHint !== undefined)
      return { hint: { near: this.yearNearHint.getTime() }, yearFrom: "start-time" };
    if (this.referenceTime !== undefined)
      return { hint: { notAfter: this.referenceTime.getTime() }, yearFrom: "file-time" };
    if (this.fallbackTime !== undefined)
      return { hint: { notAfter: this.fallbackTime.getTime() }, yearFrom: "current-year" };
    return { hint: {} };
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
    } else if (this.shapedLines === 0 && this.watchShapes && kind !== START_FELIX && kind !== START_BARE) {
      // Only lines the exact path sees get here (on the bulk path: those near a prefilter hit),
      // which is where a shaped record would matter. A plain Felix header is no envelope; another
      // timestamp may be a shape's envelope (`kubectl logs --timestamps`, logcli, journalctl).
      if (kind === START_NONE ? looksShaped(text, start, end) : looksStampShaped(text, start, end))
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

  protected closeRecord(): void {
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
    this.tally.test(text, stamp);
  }
}

const BLOCK_BYTES = 1024 * 1024;

/**
 * Pushes the lines of buf[start, end) (end is the last "\n", excluded) as blocks, cutting lines
 * longer than `maxLine` bytes the way the reader does.
 */
export function pushLines(
  scanner: RecordAssembler,
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

function firstLine(text: string): string {
  return text.slice(0, lineEndAt(text, 0));
}
