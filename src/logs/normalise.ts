// Captures that are not plain, CRI or Docker's exact json-file layout: planned on the first 64 KiB,
// then decoded (UTF-8 BOM, UTF-16LE), cleaned (CR, ANSI escapes) and unwrapped line by line with the
// shapes of shapes/index.ts, and fed to one scanner per subject (pod/container/node) so records are
// never assembled across pods. Streams: memory is the decoder's carry, each subject's pending block
// (flushed at BLOCK_CHARS) and the scanners' open records, whatever the input size.

import type { CaptureShape, CaptureSubject, LogCapture, LogScan } from "../model/logs.js";
import { TextDecoder } from "node:util";
import { mergeScans } from "./merge.js";
import {
  csvFields,
  JSON_SHAPES,
  OPEN_ROW,
  TABLE_SHAPES,
  TEXT_SHAPES,
  type RowReader,
  type TableRow,
  type TableShape,
  type Unwrapped,
} from "./shapes/index.js";
import type { SignatureSet } from "./signatures.js";
import { startKind, START_NONE } from "./lines.js";
import { isoShape, parseLeading, syslogShape } from "./time.js";
import { initialState, insideWindow, type ByteSink, type TimeWindow } from "./window.js";

/**
 * What the shaped path needs of a scanner. scanner.ts's LogScanner provides it; it is named here
 * rather than imported because the scanner (record-assembly.ts) imports this module.
 */
export interface RecordScanner {
  readonly lineLimit: number;
  pushLine(line: string, byteLength?: number): void;
  pushBlock(text: string, bytes: number): void;
  finish(): LogScan;
}

const DOCKER_EXACT = '{"log":"';
/** Lines of the head looked at to plan (each costs a JSON parse at worst). */
const PLAN_LINES = 2000;
/** A subject's decoded lines are handed to its scanner in blocks of about this many characters. */
const BLOCK_CHARS = 256 * 1024;
/** A line longer than this without its "\n" is cut (the scanner cuts at its line cap anyway). */
const CARRY_CHARS = 8 * 1024 * 1024;
const PIECE_BYTES = 64 * 1024;
/** Beyond this many subjects, lines go to the unnamed one (bounds memory on a mislabelled file). */
const MAX_SUBJECTS = 4096;
const STRAY_QUOTE = "a quoted CSV field";
/** Records held while it is not known whether records mark their line's end (see lineEnds). */
const UNDECIDED_PIECES = 64;
/** A table's first rows, held to see whether it is newest first (Kibana's default sort). */
const PROBE_ROWS = 64;
/**
 * A newest-first table is held to be read oldest first; past this many characters, in parts. Kibana
 * caps a CSV report at 250 MB by default (`xpack.reporting.csv.maxSizeBytes`).
 */
const REVERSE_CHARS = 256 * 1024 * 1024;

// CSI (colours, cursor), OSC (titles, links) and two-byte escapes.
// eslint-disable-next-line no-control-regex
const ANSI = /\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-Z\\-_]/g;

export interface CapturePlan {
  encoding: "utf-8" | "utf-16le";
  /** Whether the capture needs the shaped path (false: the fast path reads it as it is). */
  shaped: boolean;
  /** What the head showed (also decides whether prose-like shapes such as stern are trusted). */
  shapes: Set<CaptureShape>;
  /**
   * Whether the head showed records that mark their line's end (Docker json-file's "\n"): then a
   * record without it is a piece of a split line. A shipper that strips every newline shows none.
   */
  lineEnds?: boolean;
}

/** Mostly control characters (or NUL) in decoded text: not a log. */
function binaryText(text: string): boolean {
  let control = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0) return true;
    if ((c < 32 && !(c >= 8 && c <= 13) && c !== 27) || c === 127 || c === 0xfffd) control++;
  }
  return text.length > 0 && control / text.length > 0.3;
}

/** NUL bytes, or mostly control characters: the check for a file without a UTF-16 BOM. */
export function looksBinary(head: Buffer): boolean {
  if (head.includes(0)) return true;
  let control = 0;
  for (let i = 0; i < head.length; i++) {
    const byte = head[i] ?? 0;
    // Text control characters: \b \t \n \v \f \r and ESC (colour codes).
    if ((byte < 32 && !(byte >= 8 && byte <= 13) && byte !== 27) || byte === 127) control++;
  }
  return head.length > 0 && control / head.length > 0.3;
}

/**
 * Plans a capture from its first bytes: undefined when it is binary (a UTF-16LE BOM only counts when
 * the text behind it decodes to text, so a binary file starting FF FE is still binary).
 */
export function planCapture(head: Buffer): CapturePlan | undefined {
  const shapes = new Set<CaptureShape>();
  let text: string;
  let encoding: CapturePlan["encoding"] = "utf-8";
  if (head.length >= 2 && head[0] === 0xff && head[1] === 0xfe) {
    text = head.subarray(2, head.length - (head.length % 2)).toString("utf16le");
    if (binaryText(text)) return undefined;
    encoding = "utf-16le";
    shapes.add("utf16le");
  } else {
    if (looksBinary(head)) return undefined;
    text = head.toString("utf8");
    if (text.charCodeAt(0) === 0xfeff) shapes.add("utf8-bom");
  }
  if (text.includes("\r")) shapes.add("crlf");
  if (text.includes("\x1b")) shapes.add("ansi");
  const lines = text.split("\n", PLAN_LINES);
  // The last line of the head may be cut: only complete ones are looked at.
  if (lines.length > 1 && !text.endsWith("\n")) lines.pop();
  let nonEmpty = 0;
  let sternLines = 0;
  let lineEnds = false;
  const seen = new Set<CaptureShape>();
  for (const raw of lines) {
    const line = clean(raw);
    if (line.length === 0) continue;
    nonEmpty++;
    const u = unwrapLine(line, true, seen);
    noteTable(line, u, shapes);
    if (u !== undefined && seen.has("stern")) sternLines++;
    if (u?.partial === false) lineEnds = true;
    if (seen.has("docker-json") && line.startsWith(DOCKER_EXACT) && line.includes('","stream":"')) {
      // Docker's own layout: the fast path reads it (a later shape in the same line still counts).
      seen.delete("docker-json");
    }
    for (const s of seen) if (s !== "stern") shapes.add(s);
    seen.clear();
  }
  // stern's prefix is plain words: trusted only when most of the head has it.
  if (sternLines > 0 && sternLines * 2 >= nonEmpty) shapes.add("stern");
  // CR before "\n" alone the fast path drops itself; it is not a reason to leave it.
  const shaped = [...shapes].some((s) => s !== "crlf");
  return { encoding, shaped, shapes, ...(lineEnds ? { lineEnds } : {}) };
}

/**
 * Whether text[start, end), which does not start a record as it is, does once unwrapped: a line a
 * plain read would take for a continuation or prose. Cheap for most lines (their first character).
 */
export function looksShaped(text: string, start: number, end: number): boolean {
  const c = text.charCodeAt(start);
  // Tab, space, ESC, `>`, `[`, `{`, `"`, a digit, a BOM: how the shapes of shapes/index.ts begin.
  if (!(
    c === 9 ||
    c === 32 ||
    c === 27 ||
    c === 62 ||
    c === 91 ||
    c === 123 ||
    c === 34 ||
    (c >= 48 && c <= 57) ||
    c === 0xfeff
  ))
    return false;
  if (plainlyUnshaped(text, start, end, c)) return false;
  return unwrapsToRecord(text.slice(c === 0xfeff ? start + 1 : start, end), c === 0xfeff);
}

/**
 * Whether text[start, end), which starts a record as it is (a timestamp), is a shape's envelope:
 * `kubectl logs --timestamps`, logcli, journalctl (short and short-iso), Grafana's txt, a CSV row
 * with an ISO time. The plain path takes every such line for a record of its own, continuation
 * lines too (each has its envelope's time), so the envelope alone decides, as it does in the head.
 * Only lines whose time is not a plain Felix header's get here; only these shapes' times are
 * looked at further.
 */
export function looksStampShaped(text: string, start: number, end: number): boolean {
  const c = text.charCodeAt(start);
  if (c >= 48 && c <= 57) {
    const sep = isoShape(text, start);
    if (sep !== 84 && !(sep === 32 && text.charCodeAt(start + 23) === 9)) return false;
  } else if (!syslogShape(text, start)) {
    return false;
  }
  const line = clean(text.slice(start, end));
  return unwrapLine(line, false) !== undefined || ISO_CSV_ROW.test(line);
}

/** A CSV row whose first column is an RFC 3339 time (the SQL API's export). */
const ISO_CSV_ROW = /^\d{4}-\d\d-\d\dT[^\s,"]*,/;

/** Whether a line (after a BOM, when `bom`) is an envelope around the start of a record. */
function unwrapsToRecord(line: string, bom: boolean): boolean {
  const cleaned = clean(line);
  // A BOM in the middle of a file (captures concatenated): the plain path does not skip it.
  if (bom && startKind(cleaned, 0) !== START_NONE) return true;
  const u = unwrapLine(cleaned, false);
  // A shape's JSON record is an envelope whatever it holds (a piece of a split line, a dump line).
  if (u !== undefined && cleaned.charCodeAt(0) === 123) return true;
  const message = u?.message ?? (cleaned !== line ? cleaned : undefined);
  if (message !== undefined && startKind(message, 0) !== START_NONE) return true;
  return csvRowHoldsRecord(cleaned);
}

/** Whether a line is a CSV row with a field that starts a record (a table's header may be far back). */
function csvRowHoldsRecord(line: string): boolean {
  if (!line.includes(",")) return false;
  const fields = csvFields(line, true);
  if (fields === undefined || fields.length < 2) return false;
  for (const field of fields) if (startKind(field, 0) !== START_NONE) return true;
  return false;
}

/** A line no other shape unwraps may be a table's header (planCapture). */
function noteTable(line: string, u: Unwrapped | undefined, shapes: Set<CaptureShape>): void {
  if (u !== undefined) return;
  const table = tableHeader(line);
  if (table !== undefined) shapes.add(table.shape.name);
}

/** The table a header line starts, if any (a cheap look first: most lines are no header). */
function tableHeader(line: string): { shape: TableShape; reader: RowReader } | undefined {
  for (const shape of TABLE_SHAPES) {
    const reader = shape.header(line);
    if (reader !== undefined) return { shape, reader };
  }
  return undefined;
}

/**
 * A quick no for the continuation lines a retry storm is made of, giving the answer the full
 * unwrap would: a `[` line (libbpf's type dump) unwraps only as `--prefix`'s `[pod/`, an indented
 * one (a type's member list, a Go stack) only as a `> ` quote or when what follows the blanks starts
 * a record. Lines whose answer an ESC could change, other whitespace or non-ASCII get no quick
 * answer.
 */
function plainlyUnshaped(text: string, start: number, end: number, c: number): boolean {
  if (c === 91) {
    // Only `[pod/` or a bare Felix header (`[` and a capital) unwraps; stripping ANSI cannot change
    // the character after `[` unless it is ESC, so a type-dump line (`[12] …`) needs no further look.
    const next = start + 1 < end ? text.charCodeAt(start + 1) : 0;
    if (next !== 27 && next !== 112 && !(next >= 65 && next <= 90)) return true;
    return !hasEsc(text, start, end) && !text.startsWith("[pod/", start);
  }
  if (c !== 9 && c !== 32) return false;
  let j = start;
  while (j < end && (text.charCodeAt(j) === 32 || text.charCodeAt(j) === 9)) j++;
  const d = j < end ? text.charCodeAt(j) : 0;
  if (!(d > 32 && d < 127) || d === 62) return false;
  // What follows the blanks starts a record only with a digit, `[` or a capital (startKind); any
  // other first character stays first after ANSI is stripped, so no ESC scan is needed for it.
  const mayStart = (d >= 48 && d <= 57) || d === 91 || (d >= 65 && d <= 90);
  if (!mayStart) return true;
  return !hasEsc(text, start, end) && startKind(text.slice(j, end), 0) === START_NONE;
}

function hasEsc(text: string, start: number, end: number): boolean {
  // A bounded loop: indexOf would search the rest of the block when the line has none.
  for (let i = start; i < end; i++) if (text.charCodeAt(i) === 27) return true;
  return false;
}

/** Whether a line in Docker's byte layout is another shape's record (a shipper's, not Docker's). */
export function shipperRecord(text: string, start: number, end: number): boolean {
  const seen = new Set<CaptureShape>();
  return unwrapLine(text.slice(start, end), false, seen) !== undefined && !seen.has("docker-json");
}

/** Removes a trailing CR and ANSI escape sequences. */
function clean(line: string): string {
  const noCr = line.endsWith("\r") ? line.slice(0, -1) : line;
  return noCr.includes("\x1b") ? noCr.replace(ANSI, "") : noCr;
}

function parseJson(line: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(line);
    if (typeof value !== "object" || value === null || Array.isArray(value)) return undefined;
    const record = value as Record<string, unknown>;
    // An Elasticsearch search hit: the document is in _source.
    const source = record._source;
    if (typeof source === "object" && source !== null && !Array.isArray(source)) {
      return source as Record<string, unknown>;
    }
    return record;
  } catch {
    return undefined;
  }
}

/**
 * Unwraps one cleaned line through every envelope it carries (outermost first), or undefined when
 * it carries none. `stern` says whether stern's prefix is trusted; `seen` collects the shapes.
 */
export function unwrapLine(line: string, stern: boolean, seen?: Set<CaptureShape>): Unwrapped | undefined {
  let out: Unwrapped | undefined;
  let message = line;
  for (let depth = 0; depth < 4; depth++) {
    let next: Unwrapped | undefined;
    if (message.charCodeAt(0) === 123) {
      next = unwrapJson(message, seen);
    } else {
      for (const shape of TEXT_SHAPES) {
        if (shape.onlyWhenPlanned === true && !stern) continue;
        next = shape.unwrap(message);
        if (next !== undefined) {
          seen?.add(shape.name);
          break;
        }
      }
    }
    if (next === undefined) break;
    out = out === undefined ? next : { ...next, ...definedOf(out), message: next.message };
    message = next.message;
    if (message.includes("\n")) break;
  }
  return out;
}

function unwrapJson(line: string, seen: Set<CaptureShape> | undefined): Unwrapped | undefined {
  const record = parseJson(line);
  if (record === undefined) return undefined;
  for (const shape of JSON_SHAPES) {
    const next = shape.unwrap(record);
    if (next !== undefined) {
      seen?.add(shape.name);
      return next;
    }
  }
  return undefined;
}

/** The fields of `u` that are set (outer envelopes win over inner ones). */
function definedOf(u: Unwrapped): Partial<Unwrapped> {
  const out: Partial<Unwrapped> = {};
  if (u.timeMs !== undefined) out.timeMs = u.timeMs;
  if (u.pod !== undefined) out.pod = u.pod;
  if (u.container !== undefined) out.container = u.container;
  if (u.node !== undefined) out.node = u.node;
  return out;
}

/** One subject's scanner and its pending block of decoded lines. */
class SubjectFeed {
  private lines: string[] = [];
  private chars = 0;
  private bytes = 0;
  inside: boolean;

  constructor(
    readonly key: string,
    readonly subject: CaptureSubject,
    readonly scanner: RecordScanner,
    window: TimeWindow | undefined,
  ) {
    this.inside = window === undefined ? true : initialState(window);
  }

  push(line: string, bytes: number): void {
    if (line.length > this.scanner.lineLimit) {
      this.flush();
      this.scanner.pushLine(line, bytes);
      return;
    }
    this.lines.push(line);
    this.chars += line.length + 1;
    this.bytes += bytes;
    if (this.chars >= BLOCK_CHARS) this.flush();
  }

  flush(): void {
    if (this.lines.length === 0) return;
    this.scanner.pushBlock(this.lines.join("\n"), this.bytes);
    this.lines = [];
    this.chars = 0;
    this.bytes = 0;
  }
}

/** The records of one subject and stream held as pieces of a split line. */
interface HeldPieces {
  feed: SubjectFeed;
  u: Unwrapped;
  parts: string[];
  /** Per piece: its bytes, and its envelope time (used when the pieces turn out to be lines). */
  sizes: number[];
  times: (number | undefined)[];
  chars: number;
  bytes: number;
}

/** A table's row waiting to be read (while its order is not known, or when it is newest first). */
interface HeldRow {
  u: Unwrapped;
  orderMs: number | undefined;
  bytes: number;
}

/** A table being read: its row reader, and the rows held back to be read in time order. */
interface OpenTable {
  shape: TableShape;
  reader: RowReader;
  /** Bytes of the lines of a row still open. */
  openBytes: number;
  /** Undefined until the first rows said; then whether rows come newest first. */
  newestFirst: boolean | undefined;
  /** Rows held (undefined once the table is known to be oldest first: rows then stream). */
  rows: HeldRow[] | undefined;
  chars: number;
}

/** Whether `text` already carries a CRI envelope (a shipper that kept the runtime's line). */
function hasCri(text: string): boolean {
  return /^\d{4}-\d\d-\d\dT\S+ std(?:out|err) [FP] /.test(text);
}

/** The shaped path's sink: decode, clean, unwrap, route to the subject's scanner. */
export class ShapedSink implements ByteSink {
  private readonly decoder: TextDecoder;
  private carry = "";
  private readonly feeds = new Map<string, SubjectFeed>();
  private readonly stern: boolean;
  readonly shapes: Set<CaptureShape>;
  /**
   * Whether records without a line end are pieces (see CapturePlan.lineEnds); undefined while no
   * such record has been seen (a capture whose head had none): pieces are then held until one
   * marks a line's end, or UNDECIDED_PIECES of them did not.
   */
  private lineEnds: boolean | undefined;
  /** The feed the last line went to. */
  private lastFeed: SubjectFeed | undefined;
  /** The CSV export being read, when a header line started one. */
  private table: OpenTable | undefined;
  /** What made the read partial (a quote never closed...), without the source's name. */
  readonly problems: string[] = [];
  /** Pieces of split lines waiting for their last record, per subject and stream. */
  private readonly pieces = new Map<string, HeldPieces>();

  constructor(
    plan: CapturePlan,
    private readonly newScanner: () => RecordScanner,
    private readonly window: TimeWindow | undefined,
  ) {
    this.decoder = new TextDecoder(plan.encoding);
    this.stern = plan.shapes.has("stern");
    this.shapes = new Set(plan.shapes);
    this.lineEnds = plan.lineEnds === true ? true : plan.shapes.has("docker-json") ? false : undefined;
  }

  feed(chunk: Buffer): void {
    // Pieces of 64 KiB: their strings die young (a 1 MiB chunk's would go to the large-object
    // space and wait for a full GC, which shows as RSS).
    for (let at = 0; at < chunk.length; at += PIECE_BYTES) {
      this.piece(chunk.subarray(at, Math.min(chunk.length, at + PIECE_BYTES)));
    }
  }

  private piece(chunk: Buffer): void {
    const text = this.carry + this.decoder.decode(chunk, { stream: true });
    let pos = 0;
    for (;;) {
      const nl = text.indexOf("\n", pos);
      if (nl < 0) break;
      this.line(text.slice(pos, nl));
      pos = nl + 1;
    }
    this.carry = text.slice(pos);
    if (this.carry.length > CARRY_CHARS) {
      this.line(this.carry);
      this.carry = "";
    }
    // Lines are slices of this chunk's text and keep all of it alive: hand every pending block to
    // its scanner now (joining copies them), so no chunk outlives its feed() call.
    for (const feed of this.feeds.values()) feed.flush();
  }

  end(): void {
    const rest = this.carry + this.decoder.decode();
    this.carry = "";
    if (rest.length > 0) this.line(rest);
    this.closeTable(true);
    // A split line whose last record never came (a capture cut short) still counts as a line.
    if (this.lineEnds !== true) this.releaseApart();
    for (const p of this.pieces.values()) this.record(p.feed, { ...p.u, message: p.parts.join("") }, p.bytes);
    this.pieces.clear();
    for (const feed of this.feeds.values()) feed.flush();
  }

  /** The scans: merged, and per subject when the capture named any. */
  result(set: SignatureSet, sampleLimit?: number): { scan: LogScan; captures?: LogCapture[] } {
    const captures: LogCapture[] = [];
    for (const feed of this.feeds.values()) {
      captures.push({ subject: feed.subject, scan: feed.scanner.finish() });
    }
    if (captures.length === 0) captures.push({ subject: {}, scan: this.newScanner().finish() });
    const scan =
      captures.length === 1 && captures[0]
        ? captures[0].scan
        : mergeScans(
            set,
            captures.map((c) => c.scan),
            sampleLimit,
          );
    const named = captures.some((c) => Object.keys(c.subject).length > 0);
    return named ? { scan, captures } : { scan };
  }

  private line(raw: string): void {
    const bytes = raw.length + 1;
    const line = clean(raw.charCodeAt(0) === 0xfeff ? raw.slice(1) : raw);
    if (this.table !== undefined && this.tableLine(this.table, line, bytes)) return;
    const u = unwrapLine(line, this.stern, this.shapes);
    if (u === undefined) {
      const table = tableHeader(line);
      if (table !== undefined) {
        this.closeTable(false);
        this.shapes.add(table.shape.name);
        this.table = { ...table, openBytes: 0, newestFirst: undefined, rows: [], chars: 0 };
      }
      this.emit(this.feedFor(undefined), line, undefined, bytes);
      return;
    }
    this.joined(this.feedFor(u), u, bytes);
  }

  /** A line while a table is open: false when it is no row of it (it is then read as a line). */
  private tableLine(table: OpenTable, line: string, bytes: number): boolean {
    const row = table.reader.line(line);
    if (row === OPEN_ROW) {
      table.openBytes += bytes;
      return true;
    }
    if (row === undefined) {
      const held = table.reader.takeOpen();
      if (held.length === 0) return false;
      // One line for the first: a file with stray quotes would repeat it.
      if (!this.problems.some((p) => p.startsWith(STRAY_QUOTE)))
        this.problems.push(
          `${STRAY_QUOTE} runs on for ${held.length} lines without its closing quote: they were read as plain lines`,
        );
      table.openBytes = 0;
      for (const h of held) this.emit(this.feedFor(undefined), h, undefined, h.length + 1);
      return true;
    }
    this.tableRow(table, row, bytes + table.openBytes);
    table.openBytes = 0;
    return true;
  }

  private tableRow(table: OpenTable, row: TableRow, bytes: number): void {
    const { orderMs, ...outer } = row;
    let u: Unwrapped = outer;
    // The message may carry an envelope of its own (a shipper that kept the runtime's CRI line).
    if (!outer.message.includes("\n")) {
      const inner = unwrapLine(clean(outer.message), this.stern, this.shapes);
      if (inner !== undefined) u = { ...inner, ...definedOf(outer), message: inner.message };
    }
    if (table.rows === undefined) {
      this.record(this.feedFor(u), u, bytes);
      return;
    }
    table.rows.push({ u, orderMs, bytes });
    table.chars += u.message.length;
    if (table.newestFirst === undefined) {
      if (table.rows.length >= PROBE_ROWS) this.releaseRows(table, false);
    } else if (table.chars > REVERSE_CHARS) {
      const problem = `a newest-first CSV export over ${REVERSE_CHARS / 1024 / 1024} MiB was read in parts, each oldest first`;
      if (!this.problems.includes(problem)) this.problems.push(problem);
      this.releaseRows(table, true);
    }
  }

  /**
   * Reads the held rows oldest first. While the order is not known the first rows decide it: more
   * steps back in time than forward is a newest-first export, whose rows are all held until the
   * table ends (or REVERSE_CHARS); otherwise the rows stream from here on. `final`: no more rows
   * will come (or no more may be held): the rows go now, whatever the order.
   */
  private releaseRows(table: OpenTable, final: boolean): void {
    const rows = table.rows ?? [];
    if (table.newestFirst === undefined) {
      let back = 0;
      let forward = 0;
      let last: number | undefined;
      for (const r of rows) {
        if (r.orderMs === undefined) continue;
        if (last !== undefined && r.orderMs < last) back++;
        else if (last !== undefined && r.orderMs > last) forward++;
        last = r.orderMs;
      }
      table.newestFirst = back > forward;
      if (table.newestFirst && !final) return;
    }
    if (table.newestFirst) rows.reverse();
    for (const r of rows) this.record(this.feedFor(r.u), r.u, r.bytes);
    table.rows = table.newestFirst ? [] : undefined;
    table.chars = 0;
  }

  /** Ends the open table: its held rows are read; `atEnd`: a row left open is a problem. */
  private closeTable(atEnd: boolean): void {
    const table = this.table;
    if (table === undefined) return;
    this.table = undefined;
    if (table.rows !== undefined && table.rows.length > 0) this.releaseRows(table, true);
    const held = table.reader.takeOpen();
    if (held.length === 0) return;
    if (atEnd) {
      this.problems.push(
        held.length === 1
          ? "CSV ends inside a quoted field (its last line was read as a plain line)"
          : `CSV ends inside a quoted field (its last ${held.length} lines were read as plain lines)`,
      );
    }
    for (const h of held) this.emit(this.feedFor(undefined), h, undefined, h.length + 1);
  }

  /** Joins the pieces of a split line (per subject and stream) before the record goes on. */
  private joined(feed: SubjectFeed, u: Unwrapped, bytes: number): void {
    if (u.partial === false) this.lineEnds = true;
    if (u.partial === undefined || this.lineEnds === false) {
      this.record(feed, u, bytes);
      return;
    }
    const key = `${feed.key}\u0000${u.stream ?? ""}`;
    const held = this.pieces.get(key) ?? { feed, u, parts: [], sizes: [], times: [], chars: 0, bytes: 0 };
    // Copies: the pieces are slices of a chunk's text, which must not outlive it.
    held.parts.push(detached(u.message));
    held.sizes.push(bytes);
    held.times.push(u.timeMs);
    held.chars += u.message.length;
    held.bytes += bytes;
    const waiting = this.lineEnds === true || held.parts.length < UNDECIDED_PIECES;
    if (u.partial && held.chars < CARRY_CHARS && waiting) {
      this.pieces.set(key, held);
      return;
    }
    if (this.lineEnds === undefined) {
      // No record so far marked its line's end: a shipper that strips them, each record a line.
      this.pieces.set(key, held);
      this.lineEnds = false;
      this.releaseApart();
      return;
    }
    this.pieces.delete(key);
    this.record(held.feed, { ...held.u, message: held.parts.join("") }, held.bytes);
  }

  /** The held records as lines of their own (the capture's records do not mark line ends). */
  private releaseApart(): void {
    for (const p of this.pieces.values()) {
      p.parts.forEach((message, i) => {
        const u: Unwrapped = { ...p.u, message };
        const timeMs = p.times[i];
        if (timeMs === undefined) delete u.timeMs;
        else u.timeMs = timeMs;
        this.record(p.feed, u, p.sizes[i] ?? 0);
      });
    }
    this.pieces.clear();
  }

  private record(feed: SubjectFeed, u: Unwrapped, bytes: number): void {
    if (!u.message.includes("\n")) {
      this.emit(feed, u.message, u.timeMs, bytes);
      return;
    }
    const parts = u.message.split("\n");
    if (parts.at(-1) === "") parts.pop();
    for (let i = 0; i < parts.length; i++) {
      this.emit(feed, clean(parts[i] ?? ""), u.timeMs, i === 0 ? bytes : 0);
    }
  }

  private emit(feed: SubjectFeed, message: string, timeMs: number | undefined, bytes: number): void {
    if (this.window !== undefined) {
      const ms = timeMs ?? leadingMs(message);
      if (ms !== undefined) feed.inside = insideWindow(this.window, ms);
      if (!feed.inside) return;
    }
    // An envelope time becomes a CRI envelope, which the scanner reads as the line's time.
    if (timeMs !== undefined && message.length > 0 && !hasCri(message)) {
      feed.push(`${new Date(timeMs).toISOString()} stdout F ${message}`, bytes);
    } else {
      feed.push(message, bytes);
    }
  }

  private feedFor(u: Unwrapped | undefined): SubjectFeed {
    // Consecutive lines mostly name the same subject: no key to build for those.
    const last = this.lastFeed;
    if (
      last !== undefined &&
      last.subject.pod === u?.pod &&
      last.subject.container === u?.container &&
      last.subject.node === u?.node
    )
      return last;
    const feed = this.feedByKey(u);
    this.lastFeed = feed;
    return feed;
  }

  private feedByKey(u: Unwrapped | undefined): SubjectFeed {
    let key = `${u?.pod ?? ""}\u0000${u?.container ?? ""}\u0000${u?.node ?? ""}`;
    let feed = this.feeds.get(key);
    if (feed !== undefined) return feed;
    if (this.feeds.size >= MAX_SUBJECTS) key = "\u0000\u0000";
    feed = this.feeds.get(key);
    if (feed !== undefined) return feed;
    // Copies: the names are slices of a chunk's text, which must not outlive it.
    const subject: CaptureSubject = {};
    if (key !== "\u0000\u0000") {
      if (u?.pod !== undefined) subject.pod = detached(u.pod);
      if (u?.container !== undefined) subject.container = detached(u.container);
      if (u?.node !== undefined) subject.node = detached(u.node);
    }
    const own = detached(key);
    feed = new SubjectFeed(own, subject, this.newScanner(), this.window);
    this.feeds.set(own, feed);
    return feed;
  }
}

function detached(s: string): string {
  return Buffer.from(s, "utf8").toString("utf8");
}

function leadingMs(message: string): number | undefined {
  const stamp = parseLeading(message, 0)?.stamp;
  return stamp?.kind === "full" ? stamp.ms : undefined;
}
