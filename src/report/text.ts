// Plain-text helpers for the terminal writer: width-aware truncation and padding, and ANSI colour
// that is applied only when asked for.

import type { Status } from "../model/finding.js";

const ESC = "\u001b[";

const STATUS_COLOUR: Record<Status, string> = {
  affected: "31",
  "at-risk": "33",
  "not-affected": "32",
  unknown: "35",
};

export interface Paint {
  status: (status: Status, text: string) => string;
  bold: (text: string) => string;
  dim: (text: string) => string;
}

function wrap(code: string, text: string): string {
  return `${ESC}${code}m${text}${ESC}0m`;
}

export function paint(color: boolean): Paint {
  if (!color) return { status: (_s, t) => t, bold: (t) => t, dim: (t) => t };
  return {
    status: (s, t) => wrap(STATUS_COLOUR[s], t),
    bold: (t) => wrap("1", t),
    dim: (t) => wrap("2", t),
  };
}

const GRAPHEMES = new Intl.Segmenter("en", { granularity: "grapheme" });

function graphemes(text: string): string[] {
  return Array.from(GRAPHEMES.segment(text), (s) => s.segment);
}

/** Display width, counting each grapheme as one column (the report's text is ASCII plus a few symbols). */
export function width(text: string): number {
  return graphemes(text).length;
}

/** Cuts to `max` columns, ending in "…" when something was cut. Newlines become spaces. */
export function truncate(text: string, max: number): string {
  const flat = text.replace(/\s*\n\s*/g, " ");
  const chars = graphemes(flat);
  if (chars.length <= max) return flat;
  if (max <= 1) return "…".slice(0, max);
  return `${chars.slice(0, max - 1).join("")}…`;
}

export function padEnd(text: string, columns: number): string {
  const w = width(text);
  return w >= columns ? text : text + " ".repeat(columns - w);
}
