// The incremental scanner: physical lines in, a LogScan out. LogScanner is the exact path of
// record-assembly.ts plus the bulk path here, which counts runs of ASCII lines straight from the
// bytes (the line kernel, kernel.ts, sorts them first when it is loaded) and passes only the lines
// that need more than counting to the exact path. The signature counts are in signal-tally.ts and
// the types callers share in scan-types.ts.
//
// Hot path: the bulk path runs per line of most of a large log. Its methods read and write the
// fields of RecordAssembler directly; a LogScanner is the only kind of object they ever see.

import {
  BIT_CRI,
  BIT_DOCKER,
  ENV_CRI,
  ENV_NONE,
  START_FELIX,
  START_NONE,
  type StartKind,
  startFormatBit,
  startStamped,
} from "./lines.js";
import { classifyBytes, isoShapeBytes, startKindBytes } from "./bytes.js";
import { pushLines, RecordAssembler } from "./record-assembly.js";
import { RUN_CONTINUATION, RUN_CRI_FELIX, RUN_OTHER, type LineRuns } from "./scan-types.js";

// Also imported from here by src/agent.
export type { ScanOptions, SignatureMatch } from "./scan-types.js";

const NO_HITS: readonly number[] = [];

/** Incremental scanner for one log source: push physical lines (already split, without the newline), then finish(). */
export class LogScanner extends RecordAssembler {
  private readonly bulk = new BulkState();
  private readonly spanHits: number[] = [];

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
}

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
