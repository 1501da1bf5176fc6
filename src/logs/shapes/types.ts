// What a capture shape is: how to recognise one line of it, and how to unwrap that line into the
// log message and whatever the envelope says about it (time, pod, container, node).

import type { CaptureShape } from "../../model/logs.js";

export interface Unwrapped {
  /** The log text inside the envelope; may hold several lines ("\n") when a shipper joined them. */
  message: string;
  /** Epoch ms from the envelope, when it has a time. */
  timeMs?: number;
  pod?: string;
  container?: string;
  node?: string;
  /**
   * Set by shapes whose format marks split lines (Docker json-file writes a line over 16 KiB as
   * several records, all but the last without the trailing newline): true for a piece that the
   * next record of the same subject and stream continues, false for a line's last (or only) record.
   */
  partial?: boolean;
  /** The stream (stdout/stderr) a split line's pieces are joined within. */
  stream?: string;
}

/** A shape whose lines are text: a prefix to remove (kubectl --prefix, stern, quoting...). */
export interface TextShape {
  readonly name: CaptureShape;
  readonly kind: "text";
  /**
   * Whether recognising this shape needs the plan's consent (its lines look like ordinary prose
   * too often to be trusted one by one, e.g. stern's bare `POD CONTAINER ` prefix).
   */
  readonly onlyWhenPlanned?: boolean;
  unwrap(line: string): Unwrapped | undefined;
}

/** A JSON-lines shape: picks its fields out of a parsed object. */
export interface JsonShape {
  readonly name: CaptureShape;
  readonly kind: "json";
  unwrap(record: Record<string, unknown>): Unwrapped | undefined;
}

/**
 * A shape whose records are rows under a header line naming their columns (a CSV export). A row
 * may run over several physical lines (a quoted field holding newlines), which a per-line unwrap
 * cannot see: the header hands out a reader that carries an open field from one line to the next.
 */
export interface TableShape {
  readonly name: CaptureShape;
  readonly kind: "table";
  /** A reader for the rows under `line`, or undefined when `line` is not this shape's header. */
  header(line: string): RowReader | undefined;
}

/** What a row reader says of a line that leaves a quoted field open (it keeps the line). */
export const OPEN_ROW = "open";

/** A table row: the unwrapped record, and a time that orders rows even when it is not used as one. */
export interface TableRow extends Unwrapped {
  /** Epoch ms of the row's time column read as UTC when it names no zone (only compared). */
  orderMs?: number;
}

/** Reads the rows of one table, one physical line at a time. */
export interface RowReader {
  /**
   * The row `line` completes; OPEN_ROW while a quoted field goes on to the next line; undefined
   * when the line is not a row of this table: the caller then takes back the lines of a row left
   * open too long (takeOpen, `line` among them) and reads them, or `line`, as any other lines.
   */
  line(line: string): TableRow | typeof OPEN_ROW | undefined;
  /** The physical lines of a row left open (a quote never closed), and forgets them. */
  takeOpen(): string[];
}

export type Shape = TextShape | JsonShape | TableShape;

export function str(value: unknown): string | undefined {
  return typeof value === "string" && value.length > 0 ? value : undefined;
}

export function obj(value: unknown): Record<string, unknown> | undefined {
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

/**
 * A time field as epoch ms: an RFC 3339 / ISO string, or a number (or numeric string) in seconds,
 * milliseconds, microseconds or nanoseconds, told apart by magnitude.
 */
export function timeField(value: unknown): number | undefined {
  if (typeof value === "number" && Number.isFinite(value)) return epochMs(value);
  if (typeof value !== "string" || value.length === 0) return undefined;
  if (/^\d+(\.\d+)?$/.test(value)) return epochMs(Number(value));
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}

function epochMs(n: number): number | undefined {
  if (n <= 0) return undefined;
  if (n < 1e11) return Math.round(n * 1000);
  if (n < 1e14) return Math.round(n);
  if (n < 1e17) return Math.round(n / 1000);
  return Math.round(n / 1e6);
}

/** Drops the one trailing newline a container runtime leaves on each log entry. */
export function chomp(text: string): string {
  return text.endsWith("\n") ? text.slice(0, text.endsWith("\r\n") ? -2 : -1) : text;
}

/** The labels of a `{k="v", k2="v2"}` stream selector (Loki's text form); escapes kept as written. */
export function selectorLabels(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of text.matchAll(/([A-Za-z_][A-Za-z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"/g)) {
    if (m[1] !== undefined && m[2] !== undefined) out[m[1]] = m[2];
  }
  return out;
}

/** Pod, container and node from log labels, under the names shippers commonly give them. */
export function labelSubject(labels: Record<string, string>): Pick<Unwrapped, "pod" | "container" | "node"> {
  const out: Pick<Unwrapped, "pod" | "container" | "node"> = {};
  const pod = labels.pod ?? labels.pod_name;
  const container = labels.container ?? labels.container_name;
  const node = labels.node ?? labels.node_name ?? labels.host ?? labels.hostname;
  if (pod !== undefined) out.pod = pod;
  if (container !== undefined) out.container = container;
  if (node !== undefined) out.node = node;
  return out;
}
