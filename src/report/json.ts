// JSON writer: the canonical report (fixed key order, [] never null), 2-space indent, trailing newline.
// jsonChunks() yields the same text in pieces (one per list element near the top, where a report of
// thousands of nodes is long), so the CLI can write it out without holding it whole: for 5,000
// nodes that text is tens of MB.

import type { Report } from "../model/finding.js";
import { canonicalReport } from "./canonical.js";

export function renderJson(report: Report): string {
  return [...jsonChunks(report)].join("");
}

export function* jsonChunks(report: Report): Generator<string> {
  yield* chunksOf(canonicalReport(report), "", 0);
  yield "\n";
}

/** Levels below which a value is written with one JSON.stringify call. */
const SPLIT_DEPTH = 4;

function isContainer(value: unknown): value is Record<string, unknown> | unknown[] {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as { toJSON?: unknown }).toJSON !== "function"
  );
}

/** JSON.stringify(value, null, 2) as it reads at `indent`, in pieces. */
function* chunksOf(value: unknown, indent: string, depth: number): Generator<string> {
  if (!isContainer(value) || depth >= SPLIT_DEPTH) {
    const text = JSON.stringify(value, null, 2);
    yield indent === "" ? text : text.replaceAll("\n", `\n${indent}`);
    return;
  }
  const inner = `${indent}  `;
  if (Array.isArray(value)) {
    if (value.length === 0) {
      yield "[]";
      return;
    }
    yield "[\n";
    for (let i = 0; i < value.length; i++) {
      yield inner;
      const item: unknown = value[i];
      // As JSON.stringify does: what has no JSON form is null inside an array.
      yield* chunksOf(jsonable(item) ? item : null, inner, depth + 1);
      yield i + 1 < value.length ? ",\n" : "\n";
    }
    yield `${indent}]`;
    return;
  }
  const entries = Object.entries(value).filter(([, v]) => jsonable(v));
  if (entries.length === 0) {
    yield "{}";
    return;
  }
  yield "{\n";
  for (let i = 0; i < entries.length; i++) {
    const [key, item] = entries[i] ?? ["", null];
    yield `${inner}${JSON.stringify(key)}: `;
    yield* chunksOf(item, inner, depth + 1);
    yield i + 1 < entries.length ? ",\n" : "\n";
  }
  yield `${indent}}`;
}

function jsonable(value: unknown): boolean {
  return value !== undefined && typeof value !== "function" && typeof value !== "symbol";
}
