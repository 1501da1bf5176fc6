// Elasticsearch / Kibana CSV exports (Discover → Share → CSV report; the SQL API's `format=csv`): a
// header row naming the columns, then one row per document with RFC 4180 quoting (a field holding a
// comma, a quote or a line break is quoted, a quote inside it doubled). Columns are found by name:
// the message in `message` or `log`, the time in `@timestamp` (or `timestamp`, `time`), the pod,
// container and node under their ECS or Beats names. A message the shipper joined from several
// lines is one quoted field over several physical lines: the reader carries it to its closing quote.
//
// Kibana writes times in its display format (`Dec 5, 2024 @ 10:00:00.000`), in the zone of the
// browser that asked for the report, and does not write the zone: such a time only orders the rows
// (a report is newest first by default); the Felix record's own timestamp stands, as in a plain
// log. A time that names its zone (ISO from the SQL API, or a Kibana set to ISO) is the row's time.

import { OPEN_ROW, type RowReader, type TableRow, type TableShape } from "./types.js";

const MESSAGE = ["message", "log"];
const TIME = ["@timestamp", "timestamp", "time"];
const POD = ["kubernetes.pod.name", "kubernetes.pod_name"];
const CONTAINER = ["kubernetes.container.name", "kubernetes.container_name"];
const NODE = ["kubernetes.node.name", "kubernetes.host", "host.name", "host.hostname", "host"];
/** A column name as Elasticsearch fields are spelled (no blanks): prose with commas is not a header. */
const COLUMN = /^[@_A-Za-z][\w.@-]*$/;
/** Beyond this many characters a quoted field is taken for a stray quote, not a joined message. */
const OPEN_CHARS = 8 * 1024 * 1024;

const MONTHS: Record<string, number> = {
  Jan: 0,
  Feb: 1,
  Mar: 2,
  Apr: 3,
  May: 4,
  Jun: 5,
  Jul: 6,
  Aug: 7,
  Sep: 8,
  Oct: 9,
  Nov: 10,
  Dec: 11,
};
const KIBANA_TIME = /^([A-Z][a-z]{2}) (\d{1,2}), (\d{4}) @ (\d\d):(\d\d):(\d\d)(?:\.(\d{1,3}))?$/;
const ZONED = /(?:Z|[+-]\d\d:?\d\d)$/;

/**
 * A CSV line's fields; when a quoted field is still open at its end, undefined, or with `open` the
 * fields with that field's text so far as the last.
 */
export function csvFields(line: string, open = false): string[] | undefined {
  const fields: string[] = [];
  const parts: string[] = [];
  if (parseFields(line, 0, false, fields, parts)) return fields;
  if (!open) return undefined;
  fields.push(parts.join(""));
  return fields;
}

/**
 * Parses fields of `line` from `pos` into `fields`; `parts` holds the open quoted field's text so
 * far (when `quoted`). Returns false when the line ends inside a quoted field (`parts` keeps it).
 * Lenient where RFC 4180 is silent: a quote inside an unquoted field, or text after a closing
 * quote, is kept as text.
 */
function parseFields(line: string, pos: number, quoted: boolean, fields: string[], parts: string[]): boolean {
  for (;;) {
    if (quoted) {
      const q = line.indexOf('"', pos);
      if (q < 0) {
        parts.push(line.slice(pos));
        return false;
      }
      if (line.charCodeAt(q + 1) === 34) {
        parts.push(line.slice(pos, q + 1));
        pos = q + 2;
        continue;
      }
      parts.push(line.slice(pos, q));
      const comma = line.indexOf(",", q + 1);
      const end = comma < 0 ? line.length : comma;
      if (end > q + 1) parts.push(line.slice(q + 1, end));
      fields.push(parts.length === 1 ? (parts[0] ?? "") : parts.join(""));
      parts.length = 0;
      if (comma < 0) return true;
      pos = comma + 1;
      quoted = false;
    }
    if (line.charCodeAt(pos) === 34) {
      quoted = true;
      pos++;
      continue;
    }
    const comma = line.indexOf(",", pos);
    if (comma < 0) {
      fields.push(line.slice(pos));
      return true;
    }
    fields.push(line.slice(pos, comma));
    pos = comma + 1;
  }
}

function column(names: readonly string[], wanted: readonly string[]): number {
  for (const w of wanted) {
    const at = names.indexOf(w);
    if (at >= 0) return at;
  }
  return -1;
}

/** Kibana's formula escaping (`csv:escapeFormulaValues`) puts a `'` before =, +, - and @. */
function unescaped(value: string): string {
  if (value.charCodeAt(0) !== 39) return value;
  const c = value.charCodeAt(1);
  return c === 61 || c === 43 || c === 45 || c === 64 ? value.slice(1) : value;
}

/** A subject field: Kibana writes `-` (or nothing) for a missing value. */
function named(value: string | undefined): string | undefined {
  if (value === undefined || value === "" || value === "-") return undefined;
  return unescaped(value);
}

/**
 * Kibana's display time as epoch ms read as UTC (only compared). The rows of a storm share their
 * text up to the second, which is cached: the full parse was the costliest part of a row.
 */
class KibanaClock {
  private second = "";
  private secondMs = 0;

  /** Sets `row.orderMs` and says true when `value` is in Kibana's format. */
  read(value: string, row: TableRow): boolean {
    const dot = value.length - 4;
    if (
      value.length === this.second.length + 4 &&
      value.charCodeAt(dot) === 46 &&
      value.startsWith(this.second)
    ) {
      const ms =
        (value.charCodeAt(dot + 1) - 48) * 100 +
        (value.charCodeAt(dot + 2) - 48) * 10 +
        (value.charCodeAt(dot + 3) - 48);
      if (ms >= 0 && ms <= 999) {
        row.orderMs = this.secondMs + ms;
        return true;
      }
    }
    const k = KIBANA_TIME.exec(value);
    const month = k === null ? undefined : MONTHS[k[1] ?? ""];
    if (k === null || month === undefined) return false;
    const ms = Number((k[7] ?? "0").padEnd(3, "0"));
    const second = Date.UTC(Number(k[3]), month, Number(k[2]), Number(k[4]), Number(k[5]), Number(k[6]));
    row.orderMs = second + ms;
    if (k[7]?.length === 3) {
      this.second = value.slice(0, dot);
      this.secondMs = second;
    }
    return true;
  }
}

/** A time in another format: `timeMs` when it names its zone, `orderMs` whenever it parses. */
function timeOf(value: string, row: TableRow): void {
  if (/^\d+(?:\.\d+)?$/.test(value)) {
    // Epoch milliseconds (the SQL API's `epoch_millis`): a zone of its own.
    const ms = Math.round(Number(value));
    if (ms > 0) row.timeMs = row.orderMs = ms;
    return;
  }
  if (ZONED.test(value)) {
    const ms = Date.parse(value);
    if (!Number.isNaN(ms)) row.timeMs = row.orderMs = ms;
    return;
  }
  const ms = Date.parse(`${value.replace(" ", "T")}Z`);
  if (!Number.isNaN(ms)) row.orderMs = ms;
}

class CsvRows implements RowReader {
  private readonly fields: string[] = [];
  private readonly parts: string[] = [];
  private open: string[] = [];
  private openChars = 0;
  private readonly clock = new KibanaClock();

  constructor(
    private readonly header: string,
    private readonly width: number,
    private readonly at: { message: number; time: number; pod: number; container: number; node: number },
  ) {}

  line(line: string): TableRow | typeof OPEN_ROW | undefined {
    const fields = this.fields;
    let done: boolean;
    if (this.open.length > 0) {
      this.parts.push("\n");
      done = parseFields(line, 0, true, fields, this.parts);
    } else {
      if (line === this.header) return undefined;
      fields.length = 0;
      done = parseFields(line, 0, false, fields, this.parts);
    }
    if (!done) {
      this.open.push(line);
      this.openChars += line.length + 1;
      // A stray quote would swallow the rest of the file: past the bound the row is not a row,
      // and the caller takes its lines back (takeOpen) to read them as lines.
      return this.openChars <= OPEN_CHARS ? OPEN_ROW : undefined;
    }
    this.open = [];
    this.openChars = 0;
    this.parts.length = 0;
    if (fields.length !== this.width) return undefined;
    const row: TableRow = { message: unescaped(fields[this.at.message] ?? "") };
    const time = this.at.time >= 0 ? fields[this.at.time] : undefined;
    if (time !== undefined && time !== "" && !this.clock.read(time, row)) timeOf(time, row);
    const pod = named(fields[this.at.pod]);
    const container = named(fields[this.at.container]);
    const node = named(fields[this.at.node]);
    if (pod !== undefined) row.pod = pod;
    if (container !== undefined) row.container = container;
    if (node !== undefined) row.node = node;
    return row;
  }

  takeOpen(): string[] {
    const lines = this.open;
    this.open = [];
    this.openChars = 0;
    this.parts.length = 0;
    this.fields.length = 0;
    return lines;
  }
}

/** Whether `line` may be a header at all (a cheap look before the parse). */
export function mayBeCsvHeader(line: string): boolean {
  const c = line.charCodeAt(0);
  const starts = c === 34 || c === 64 || c === 95 || (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
  return starts && line.includes(",") && (line.includes("message") || line.includes("log"));
}

export const elasticCsv: TableShape = {
  name: "elastic-csv",
  kind: "table",
  header(line) {
    if (!mayBeCsvHeader(line)) return undefined;
    const names = csvFields(line);
    if (names === undefined || names.length < 2 || !names.every((n) => COLUMN.test(n))) return undefined;
    const at = {
      message: column(names, MESSAGE),
      time: column(names, TIME),
      pod: column(names, POD),
      container: column(names, CONTAINER),
      node: column(names, NODE),
    };
    if (at.message < 0) return undefined;
    if (at.time < 0 && at.pod < 0 && at.container < 0 && at.node < 0) return undefined;
    return new CsvRows(line, names.length, at);
  },
};
