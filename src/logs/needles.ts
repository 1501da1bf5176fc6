// The bulk path's prefilter: a few short byte needles, searched with Buffer.indexOf over whole
// buffers, whose hits are a superset of every record that could produce a signal or a fingerprint.
//
// Node's Buffer.indexOf starts every search with memchr on the needle's first byte, so the cost of a
// pass is set by how common that byte is, not by the needle's length: a needle starting with a rare
// byte (an upper-case word, "Felix…") runs at memory speed, one starting with a space or a lowercase letter is
// many times slower. So each literal is searched by its substring that starts at its rarest byte
// (rarity measured on the log's own first buffer), and literals sharing such a substring share a
// pass; a candidate is then confirmed by comparing the whole literal in place. The line kernel
// (kernel.ts) filters on a needle's first three bytes instead, so its plan ranks three-byte grams.
//
// Which literals: a record can only match a signature if it holds one of its prefilter literals,
// and also only if it holds every literal that a pure-literal header/`all` regex (or a lone `any`
// regex) requires. Either set is a valid prefilter for that signature; the cheaper one is used.
// Fingerprints are counted on tested records only, so their anchors are always included. Results
// never depend on the choice: it only decides how much text reaches the exact path.

import { fingerprintAnchor, spellings, type CompiledSignature, type SignatureSet } from "./signatures.js";

const NEEDLE_BYTES = 4;
const REGEX_META = "^$.|?*+()[]{}";

/** The literal a regex source matches, when it has no operators at all (escaped punctuation allowed). */
export function pureLiteral(source: string): string | undefined {
  let out = "";
  for (let i = 0; i < source.length; i++) {
    const c = source.charAt(i);
    if (c === "\\") {
      const next = source.charAt(i + 1);
      if (next === "" || /[A-Za-z0-9]/.test(next)) return undefined;
      out += next;
      i++;
    } else if (REGEX_META.includes(c)) {
      return undefined;
    } else {
      out += c;
    }
  }
  return out.length > 0 ? out : undefined;
}

/** Skips a group or class starting at i; returns the index just past its end (or -1 if unbalanced). */
function skipNested(source: string, i: number): number {
  const open = source.charAt(i);
  const close = open === "(" ? ")" : "]";
  let depth = 0;
  for (let k = i; k < source.length; k++) {
    const c = source.charAt(k);
    if (c === "\\") k++;
    else if (c === open && open === "(") depth++;
    else if (c === close && --depth <= 0) return k + 1;
    else if (open === "[" && c === "]" && k > i + 1) return k + 1;
  }
  return -1;
}

/**
 * The longest run of literal text every match of a regex must contain: top-level characters not
 * made optional by a quantifier, in a regex without top-level alternation. Undefined when unsure.
 */
export function requiredLiteral(source: string): string | undefined {
  const runs: string[] = [];
  let run = "";
  const cut = (): void => {
    if (run.length > 0) runs.push(run);
    run = "";
  };
  for (let i = 0; i < source.length;) {
    const c = source.charAt(i);
    let piece: string | undefined;
    let next = i + 1;
    if (c === "|") return undefined;
    if (c === "(" || c === "[") {
      next = skipNested(source, i);
      if (next < 0) return undefined;
    } else if (c === "\\") {
      const e = source.charAt(i + 1);
      if (e === "" || /[A-Za-z0-9]/.test(e)) piece = undefined;
      else piece = e;
      next = i + 2;
    } else if (!REGEX_META.includes(c)) {
      piece = c;
    }
    const q = source.charAt(next);
    const optional = q === "?" || q === "*" || q === "{";
    if (piece === undefined || optional) {
      cut();
    } else {
      run += piece;
      if (q === "+") cut();
    }
    i = next;
  }
  cut();
  const best = runs.reduce((a, b) => (b.length > a.length ? b : a), "");
  return best.length >= 3 ? best : undefined;
}

/** Alternative literal sets, each of which every matching record contains at least one member of. */
function literalOptions(sig: CompiledSignature): string[][] {
  const options: string[][] = [[...sig.signature.prefilter]];
  const required = [sig.signature.header, ...(sig.signature.all ?? [])];
  const any = sig.signature.any ?? [];
  if (any.length === 1) required.push(any[0]);
  for (const source of required) {
    const literal = source === undefined ? undefined : (pureLiteral(source) ?? requiredLiteral(source));
    if (literal !== undefined && !literal.includes("\n")) options.push([literal]);
  }
  return options;
}

/** Byte frequencies of a sample (plus one, so unseen bytes are rare but not free). */
export function byteWeights(sample: Uint8Array): Float64Array {
  const counts = new Float64Array(256).fill(1);
  for (let i = 0; i < sample.length; i++) {
    const byte = sample[i] ?? 0;
    counts[byte] = (counts[byte] ?? 0) + 1;
  }
  const total = sample.length + 256;
  return counts.map((c) => c / total);
}

/** How common a needle starting at text[at] is in the log at hand (lower is rarer). */
export type Rarity = (text: string, at: number) => number;

/** Rarity by the needle's first byte: what a memchr-led search (Buffer.indexOf) pays for. */
export function byteRarity(sample: Uint8Array): Rarity {
  const weights = byteWeights(sample);
  return (text, at) => weights[text.charCodeAt(at) & 0xff] ?? 1;
}

const GRAM_BUCKETS = 1 << 16;

function gramIndex(a: number, b: number, c: number): number {
  return ((a * 0x9e37 + b * 0x3b) ^ (c * 0x2f1)) & (GRAM_BUCKETS - 1);
}

/**
 * Rarity by the needle's first three bytes (hashed counts in the sample): what the line kernel's
 * three-byte filter pays for. A needle with fewer than three bytes counts as common.
 */
export function gramRarity(sample: Uint8Array): Rarity {
  const counts = new Uint32Array(GRAM_BUCKETS);
  for (let i = 0; i + 2 < sample.length; i++) {
    const k = gramIndex(sample[i] ?? 0, sample[i + 1] ?? 0, sample[i + 2] ?? 0);
    counts[k] = (counts[k] ?? 0) + 1;
  }
  const total = sample.length + GRAM_BUCKETS;
  return (text, at) => {
    if (at + 3 > text.length) return 1;
    const k = gramIndex(
      text.charCodeAt(at) & 0xff,
      text.charCodeAt(at + 1) & 0xff,
      text.charCodeAt(at + 2) & 0xff,
    );
    return ((counts[k] ?? 0) + 1) / total;
  };
}

interface Choice {
  needle: string;
  offset: number;
  weight: number;
}

/** The substring of `text` (NEEDLE_BYTES long where possible) that is rarest where it starts. */
function bestNeedle(text: string, rarity: Rarity, chosen: ReadonlySet<string>): Choice {
  const lastStart = Math.max(0, text.length - Math.min(NEEDLE_BYTES, text.length));
  let best: Choice = { needle: text.slice(0, NEEDLE_BYTES), offset: 0, weight: Number.POSITIVE_INFINITY };
  for (let k = 0; k <= lastStart; k++) {
    const needle = text.slice(k, k + NEEDLE_BYTES);
    // A needle another literal already searches for costs no extra pass: prefer it when it is
    // not much commoner.
    const weight = rarity(text, k) * (chosen.has(needle) ? 0.5 : 1);
    if (weight < best.weight) best = { needle, offset: k, weight };
  }
  return best;
}

/** A pass over the buffer costs about as much as a candidate every ~200 bytes. */
const PASS_COST = 0.005;

function optionCost(literals: readonly string[], rarity: Rarity, chosen: ReadonlySet<string>): number {
  let cost = 0;
  for (const literal of literals) {
    for (const s of spellings(literal)) {
      const choice = bestNeedle(s, rarity, chosen);
      cost += chosen.has(choice.needle) ? 0 : PASS_COST + choice.weight;
    }
  }
  return cost;
}

export interface NeedleTarget {
  text: Buffer;
  /** Where the needle sits in `text`. */
  offset: number;
}

export interface Needle {
  bytes: Buffer;
  targets: NeedleTarget[];
}

/** The needles for a signature set, given how rare needles are in the log at hand. */
export function planNeedles(set: SignatureSet, rarity: Rarity): Needle[] {
  const chosen = new Set<string>();
  const wanted = new Set<string>();
  const want = (literal: string): void => {
    for (const s of spellings(literal)) {
      if (s.length === 0) continue;
      wanted.add(s);
      chosen.add(bestNeedle(s, rarity, chosen).needle);
    }
  };
  // Fingerprint anchors are always searched, so signatures can share their needles.
  for (const fp of set.fingerprints) want(fingerprintAnchor(fp.fingerprint));
  for (const sig of set.signatures) {
    let best: string[] = [];
    let bestCost = Number.POSITIVE_INFINITY;
    for (const option of literalOptions(sig)) {
      const cost = optionCost(option, rarity, chosen);
      if (cost < bestCost) {
        best = option;
        bestCost = cost;
      }
    }
    for (const literal of best) want(literal);
  }
  const byNeedle = new Map<string, NeedleTarget[]>();
  for (const text of wanted) {
    const choice = bestNeedle(text, rarity, chosen);
    const list = byNeedle.get(choice.needle) ?? [];
    list.push({ text: Buffer.from(text, "latin1"), offset: choice.offset });
    byNeedle.set(choice.needle, list);
  }
  return [...byNeedle].map(([needle, targets]) => ({ bytes: Buffer.from(needle, "latin1"), targets }));
}

/** Whether a literal of `targets` holding the needle at p lies wholly in buf[from, to). */
function confirmedAt(
  buf: Buffer,
  from: number,
  to: number,
  p: number,
  targets: readonly NeedleTarget[],
): boolean {
  for (const t of targets) {
    const s = p - t.offset;
    const e = s + t.text.length;
    if (s >= from && e <= to && buf.compare(t.text, 0, t.text.length, s, e) === 0) return true;
  }
  return false;
}

/**
 * Appends to `out` (sorted ascending) the positions in [from, end) of `buf` where a needle's
 * literal occurs. `out` is cleared first.
 */
export function findHits(
  needles: readonly Needle[],
  buf: Buffer,
  from: number,
  end: number,
  out: number[],
): void {
  out.length = 0;
  const region = buf.subarray(0, end);
  let sources = 0;
  for (const needle of needles) {
    const before = out.length;
    let pos = from;
    for (;;) {
      const p = region.indexOf(needle.bytes, pos);
      if (p < 0) break;
      if (confirmedAt(buf, from, end, p, needle.targets)) out.push(p);
      pos = p + 1;
    }
    if (out.length > before) sources++;
  }
  if (sources > 1) out.sort((a, b) => a - b);
}
