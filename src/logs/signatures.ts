// Compiling advisory signatures once, and deciding whether one assembled record matches one signature.
//
// Every prefilter literal and fingerprint message also becomes a search "anchor" for the hot path:
// the scanner looks for anchors in whole blocks of raw text, and only records containing one are
// ever assembled and tested. Anchors are a superset test, so they include the JSON-escaped spelling
// of literals (docker json-file logs escape quotes, backslashes and, like Go, `<`, `>` and `&`).

import type { Advisory, Fingerprint, Signature } from "../model/advisory.js";
import { SignatureCompileError } from "./errors.js";

export interface CompiledSignature {
  advisoryId: string;
  signature: Signature;
  /** Indexes into SignatureSet.literals. */
  literals: number[];
  header: RegExp | undefined;
  all: RegExp[];
  any: RegExp[];
  none: RegExp[];
}

export interface CompiledFingerprint {
  advisoryId: string;
  fingerprint: Fingerprint;
}

/** The advisory fields signatures are compiled from. */
export type SignatureSource = Pick<Advisory, "id" | "signatures" | "fingerprints">;

/** Compiled signatures and fingerprints of a set of advisories. Build with compileSignatures(). */
export class SignatureSet {
  /** @internal */
  readonly signatures: readonly CompiledSignature[];
  /** @internal Distinct prefilter literals, as they appear in decoded text. */
  readonly literals: readonly string[];
  /** @internal Strings whose presence in raw text makes a line worth assembling. */
  readonly anchors: readonly string[];
  /**
   * @internal The anchors as one global alternation: V8 finds the leftmost hit of all of them in a
   * single pass (with a Boyer-Moore style skip), much faster than one indexOf per anchor. Undefined
   * when there are no anchors.
   */
  readonly anchorPattern: RegExp | undefined;
  /** @internal All fingerprints, and the same keyed by "file:line". */
  readonly fingerprints: readonly CompiledFingerprint[];
  /** @internal */
  readonly fingerprintsByKey: ReadonlyMap<string, readonly number[]>;
  /** @internal What the set was compiled from (workers recompile it: RegExps do not cross threads). */
  readonly source: readonly SignatureSource[];

  /** @internal */
  constructor(parts: {
    signatures: CompiledSignature[];
    literals: string[];
    anchors: string[];
    fingerprints: CompiledFingerprint[];
    fingerprintsByKey: Map<string, number[]>;
    source?: readonly SignatureSource[];
  }) {
    this.source = parts.source ?? [];
    this.signatures = parts.signatures;
    this.literals = parts.literals;
    this.anchors = parts.anchors;
    this.anchorPattern =
      parts.anchors.length === 0 ? undefined : new RegExp(parts.anchors.map(escapeRegex).join("|"), "g");
    this.fingerprints = parts.fingerprints;
    this.fingerprintsByKey = parts.fingerprintsByKey;
  }
}

function compileRegex(advisoryId: string, signatureId: string, field: string, source: string): RegExp {
  try {
    return new RegExp(source);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new SignatureCompileError(
      advisoryId,
      signatureId,
      field,
      `invalid regex ${JSON.stringify(source)}: ${reason}`,
    );
  }
}

function compileList(advisoryId: string, sig: Signature, field: "all" | "any" | "none"): RegExp[] {
  return (sig[field] ?? []).map((source, i) => compileRegex(advisoryId, sig.id, `${field}[${i}]`, source));
}

/** The spellings a literal can have in raw log text (plain, JSON-escaped, Go-HTML-escaped). */
export function spellings(literal: string): string[] {
  const json = JSON.stringify(literal).slice(1, -1);
  const go = json.replace(/</g, "\\u003c").replace(/>/g, "\\u003e").replace(/&/g, "\\u0026");
  // A literal spanning lines can only be found line by line: its longest line is the anchor.
  return [...new Set([literal, json, go])].map(
    (s) => s.split(/\n|\\n/).reduce((a, b) => (b.length > a.length ? b : a), "") || s,
  );
}

/** Drops anchors that contain another anchor: finding the shorter one is enough. */
function minimalAnchors(candidates: Iterable<string>): string[] {
  const sorted = [...new Set(candidates)].filter((a) => a.length > 0).sort((a, b) => a.length - b.length);
  const kept: string[] = [];
  for (const a of sorted) {
    if (!kept.some((k) => a.includes(k))) kept.push(a);
  }
  return kept;
}

function compileSignature(
  advisoryId: string,
  sig: Signature,
  literalIndex: Map<string, number>,
): CompiledSignature {
  if (sig.prefilter.length === 0 || sig.prefilter.some((l) => l.length === 0)) {
    throw new SignatureCompileError(
      advisoryId,
      sig.id,
      "prefilter",
      "must list at least one non-empty literal",
    );
  }
  const literals = sig.prefilter.map((literal) => {
    let index = literalIndex.get(literal);
    if (index === undefined) {
      index = literalIndex.size;
      literalIndex.set(literal, index);
    }
    return index;
  });
  return {
    advisoryId,
    signature: sig,
    literals,
    header: sig.header === undefined ? undefined : compileRegex(advisoryId, sig.id, "header", sig.header),
    all: compileList(advisoryId, sig, "all"),
    any: compileList(advisoryId, sig, "any"),
    none: compileList(advisoryId, sig, "none"),
  };
}

/** The text a fingerprint is recognised by in raw lines. */
export function fingerprintAnchor(fp: Fingerprint): string {
  return fp.message.length > 0 ? fp.message : `${fp.file} ${fp.line}: `;
}

/**
 * Compiles the signatures and fingerprints of all advisories once (RegExp objects, prefilter
 * literals). Throws SignatureCompileError naming the advisory and signature on a bad regex or an
 * empty prefilter.
 */
export function compileSignatures(
  advisories: readonly Pick<Advisory, "id" | "signatures" | "fingerprints">[],
): SignatureSet {
  const literalIndex = new Map<string, number>();
  const signatures: CompiledSignature[] = [];
  const fingerprints: CompiledFingerprint[] = [];
  const fingerprintsByKey = new Map<string, number[]>();
  for (const advisory of advisories) {
    for (const sig of advisory.signatures) signatures.push(compileSignature(advisory.id, sig, literalIndex));
    for (const fingerprint of advisory.fingerprints) {
      const key = `${fingerprint.file}:${fingerprint.line}`;
      const list = fingerprintsByKey.get(key) ?? [];
      list.push(fingerprints.length);
      fingerprintsByKey.set(key, list);
      fingerprints.push({ advisoryId: advisory.id, fingerprint });
    }
  }
  const literals = [...literalIndex.keys()];
  const anchors = minimalAnchors(
    [...literals, ...fingerprints.map((f) => fingerprintAnchor(f.fingerprint))].flatMap(spellings),
  );
  const source = advisories.map((a) => ({
    id: a.id,
    signatures: a.signatures,
    fingerprints: a.fingerprints,
  }));
  return new SignatureSet({ signatures, literals, anchors, fingerprints, fingerprintsByKey, source });
}

function escapeRegex(literal: string): string {
  return literal.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
}

/**
 * Finds which literals occur in a text all at once, writing 1 (present) or 2 (absent) per literal
 * into `state`; false when it cannot take this text (the literals are then searched one by one).
 */
export type LiteralFinder = (text: string, state: Uint8Array) => boolean;

/** Which prefilter literals occur in one record, computed on demand (each at most once). */
export class LiteralPresence {
  private readonly state: Uint8Array;
  private text = "";
  /** Set by the bulk path when the line kernel can find all literals in one pass. */
  finder: LiteralFinder | undefined;

  constructor(private readonly literals: readonly string[]) {
    this.state = new Uint8Array(literals.length);
  }

  reset(text: string): void {
    this.text = text;
    this.state.fill(0);
    if (this.finder !== undefined && !this.finder(text, this.state)) this.state.fill(0);
  }

  has(index: number): boolean {
    let s = this.state[index] ?? 0;
    if (s === 0) {
      s = this.text.includes(this.literals[index] ?? "") ? 1 : 2;
      this.state[index] = s;
    }
    return s === 1;
  }
}

/** Result of testing a record: -1 no match, else the index in the record text that decided it. */
export function matchSignature(
  sig: CompiledSignature,
  text: string,
  headerEnd: number,
  presence: LiteralPresence,
): number {
  if (!sig.literals.some((i) => presence.has(i))) return -1;
  if (sig.header && !sig.header.test(text.slice(0, headerEnd))) return -1;
  let decidedAt = 0;
  for (const re of sig.all) {
    const m = re.exec(text);
    if (!m) return -1;
    if (decidedAt === 0 && m.index > headerEnd) decidedAt = m.index;
  }
  if (sig.any.length > 0) {
    let found = -1;
    for (const re of sig.any) {
      const m = re.exec(text);
      if (m) {
        found = m.index;
        break;
      }
    }
    if (found < 0) return -1;
    if (found > headerEnd) decidedAt = found;
  }
  for (const re of sig.none) {
    if (re.test(text)) return -1;
  }
  return decidedAt;
}
