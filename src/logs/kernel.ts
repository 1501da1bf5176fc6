// The line kernel (line-kernel.wat) seen from JS: compiles the module once per thread, writes the
// needle plan into an instance's tables, finds the data in place (a feeder's work buffer lives in
// its instance's memory) or copies it in, and reads back runs of lines of one kind and the hits.
// Optional by design: where WebAssembly is missing (the agent runs Node with --jitless) or the
// module was not built, lineKernel() returns undefined and the bulk path finds lines and hits in
// JS, with the same results.

import { readFileSync } from "node:fs";
import { findHits, type Needle, type Rarity } from "./needles.js";
import { HIT_CAP, KERNEL_LAYOUT, RUN_CAP, layoutExport } from "./kernel-layout.js";
import type { LineRuns } from "./scan-types.js";
import type { LiteralFinder } from "./signatures.js";

// The memory layout, defined once in kernel-layout.ts: the build writes the same numbers into
// line-kernel.wat, and load() refuses a module whose exported layout differs from these.
const {
  TABLES,
  BUCKET_SETS,
  NEEDLES,
  NEEDLE_SHIFT,
  MAX_NEEDLES,
  RESULTS,
  RUNS,
  RUN_BYTES,
  LITERALS,
  LITERAL_BYTES,
  HITS,
  HIT_SHIFT,
  DATA,
  SLACK,
} = KERNEL_LAYOUT;
const NEEDLE_BYTES = 1 << NEEDLE_SHIFT;
// Where the kernel's outputs are, in i32 units (as the Int32Array view reads them).
const RESULT_AT = RESULTS / 4;
const RUN_AT = RUNS / 4;
const RUN_INTS = RUN_BYTES / 4;
const HIT_AT = HITS / 4;
const HIT_INTS = (1 << HIT_SHIFT) / 4;
const PAGE = 65536;
const BUCKETS = 8;
/** Teddy fingerprint length: bytes of a needle looked up per lane. */
const FINGERPRINT = 3;

// The slice of the WebAssembly API used here (the project's TypeScript libs do not declare it).
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object) => { exports: unknown };
}

interface Exports {
  memory: WasmMemory;
  classify(start: number, end: number, maxLine: number, cap: number, candidateCap: number): number;
}

function isExports(value: unknown): value is Exports {
  const e = value as Partial<Exports> | undefined;
  return e?.memory?.buffer instanceof ArrayBuffer && typeof e.classify === "function";
}

/** Total weight of the bytes x with x's low nibble in `lo` and high nibble in `hi` (bit sets of 16). */
function crossWeight(lo: number, hi: number, p: (x: number) => number): number {
  let sum = 0;
  for (let x = 0; x < 256; x++) if ((lo & (1 << (x & 15))) !== 0 && (hi & (1 << (x >> 4))) !== 0) sum += p(x);
  return sum;
}

/**
 * Which bucket each needle goes to. Needles sharing a bucket also pass the filter for every mix of
 * their nibbles, so needles are placed one by one (the commonest first) where the bucket's expected
 * rate of such passes grows least, by byte frequencies of the log (uniform without a sample).
 */
export function assignBuckets(needles: readonly Needle[], weights?: Float64Array): number[] {
  const p = (x: number): number => weights?.[x] ?? 1 / 256;
  const rate = (members: readonly Needle[]): number => {
    if (members.length === 0) return 0;
    let r = 1;
    for (let j = 0; j < FINGERPRINT; j++) {
      let lo = 0;
      let hi = 0;
      for (const n of members) {
        const b = n.bytes[j];
        lo |= b === undefined ? 0xffff : 1 << (b & 15);
        hi |= b === undefined ? 0xffff : 1 << (b >> 4);
      }
      r *= crossWeight(lo, hi, p);
    }
    return r;
  };
  const order = needles.map((n, i) => ({ i, r: rate([n]) })).sort((a, b) => b.r - a.r);
  const members: Needle[][] = Array.from({ length: BUCKETS }, () => []);
  const bucketOf = new Array<number>(needles.length).fill(0);
  for (const { i } of order) {
    const needle = needles[i];
    if (needle === undefined) continue;
    let best = 0;
    let bestGrowth = Number.POSITIVE_INFINITY;
    members.forEach((m, b) => {
      const growth = rate([...m, needle]) - rate(m);
      if (growth < bestGrowth) {
        best = b;
        bestGrowth = growth;
      }
    });
    members[best]?.push(needle);
    bucketOf[i] = best;
  }
  return bucketOf;
}

/** The tables the kernel needs for a needle plan, or undefined when the plan does not fit them. */
export function needleTables(needles: readonly Needle[], weights?: Float64Array): Uint8Array | undefined {
  if (needles.length > MAX_NEEDLES || needles.some((n) => n.bytes.length === 0 || n.bytes.length > 4)) {
    return undefined;
  }
  const literalBytes = needles.reduce(
    (sum, n) => sum + 4 + n.targets.reduce((t, target) => t + LITERAL_BYTES + target.text.length, 0),
    0,
  );
  if (LITERALS + literalBytes > HITS) return undefined;
  const tables = new Uint8Array(LITERALS + literalBytes);
  const view = new DataView(tables.buffer);
  const bucketNeedles = new Array<number>(BUCKETS).fill(0);
  let free = LITERALS;
  const buckets = assignBuckets(needles, weights);
  needles.forEach((needle, i) => {
    const bucket = buckets[i] ?? 0;
    const bit = 1 << bucket;
    bucketNeedles[bucket] = (bucketNeedles[bucket] ?? 0) | (1 << i);
    for (let j = 0; j < FINGERPRINT; j++) {
      const lo = TABLES + j * 32;
      const hi = lo + 16;
      const byte = needle.bytes[j];
      if (byte === undefined) {
        // A needle shorter than the fingerprint accepts any byte there.
        for (let x = 0; x < 16; x++) {
          tables[lo + x] = (tables[lo + x] ?? 0) | bit;
          tables[hi + x] = (tables[hi + x] ?? 0) | bit;
        }
      } else {
        tables[lo + (byte & 15)] = (tables[lo + (byte & 15)] ?? 0) | bit;
        tables[hi + (byte >> 4)] = (tables[hi + (byte >> 4)] ?? 0) | bit;
      }
    }
    let pattern = 0;
    let mask = 0;
    needle.bytes.forEach((b, k) => {
      pattern |= b << (8 * k);
      mask |= 0xff << (8 * k);
    });
    const at = NEEDLES + i * NEEDLE_BYTES;
    view.setUint32(at, pattern >>> 0, true);
    view.setUint32(at + 4, mask >>> 0, true);
    view.setUint32(at + 8, needle.bytes.length, true);
    view.setUint32(at + 12, free, true);
    // The literal list: count, then (needle offset, length, address of the bytes) per literal.
    const list = free;
    view.setUint32(list, needle.targets.length, true);
    free += 4 + LITERAL_BYTES * needle.targets.length;
    needle.targets.forEach((target, t) => {
      view.setUint32(list + 4 + t * LITERAL_BYTES, target.offset, true);
      view.setUint32(list + 8 + t * LITERAL_BYTES, target.text.length, true);
      view.setUint32(list + 12 + t * LITERAL_BYTES, free, true);
      tables.set(target.text, free);
      free += target.text.length;
    });
  });
  for (let set = 0; set < 256; set++) {
    let needlesOfSet = 0;
    for (let b = 0; b < BUCKETS; b++) if ((set & (1 << b)) !== 0) needlesOfSet |= bucketNeedles[b] ?? 0;
    view.setUint32(BUCKET_SETS + set * 4, needlesOfSet >>> 0, true);
  }
  return tables;
}

const tablesMemo = new WeakMap<
  readonly Needle[],
  { weights: Float64Array | undefined; tables: Uint8Array | undefined }
>();

/**
 * needleTables for a plan, made once per plan: feeders interleaved on one thread take turns on the
 * literal finder's instance, and each turn used to rebuild the tables.
 */
function planTables(plan: KernelPlan): Uint8Array | undefined {
  const memo = tablesMemo.get(plan.needles);
  if (memo !== undefined && memo.weights === plan.weights) return memo.tables;
  const tables = needleTables(plan.needles, plan.weights);
  tablesMemo.set(plan.needles, { weights: plan.weights, tables });
  return tables;
}

/** What the kernel searches for and how long a line may be. */
export interface KernelPlan {
  needles: readonly Needle[];
  /** Byte frequencies of the log, for placing needles in buckets. */
  weights?: Float64Array;
  /** Longer lines are never ordinary (the scanner's line cap). */
  maxLine: number;
}

/** A kernel instance (one per feeder, see acquireKernel): synchronous, used from one thread. */
export class LineKernel implements LineRuns {
  private bytes: Buffer;
  private ints: Int32Array;
  private planned: readonly Needle[] | undefined;
  private origin = 0;
  private dataEnd = 0;
  private maxLine = 0;
  private last = 0;
  private done = 0;
  private candidates = 0;
  private overflow = false;
  /** The next candidate hitsIn() looks at (spans are asked for in order). */
  private cursor = 0;

  constructor(private readonly exports: Exports) {
    this.bytes = Buffer.from(exports.memory.buffer);
    this.ints = new Int32Array(exports.memory.buffer);
  }

  /**
   * Copies buf[start, end) in and sets the plan; false when the plan does not fit the kernel (the
   * caller then uses the JS path).
   */
  prepare(buf: Buffer, start: number, end: number, plan: KernelPlan): boolean {
    if (this.planned !== plan.needles) {
      const tables = planTables(plan);
      if (tables === undefined) return false;
      this.bytes.set(tables, 0);
      this.planned = plan.needles;
    }
    // A feeder whose work buffer is this memory (work()) has its data in place already.
    if (buf.buffer !== this.bytes.buffer || buf.byteOffset + start !== DATA) {
      this.room(end - start);
      this.bytes.set(buf.subarray(start, end), DATA);
    }
    this.origin = DATA - start;
    this.dataEnd = DATA + (end - start);
    this.maxLine = plan.maxLine;
    return true;
  }

  /**
   * Which of the plan's literals (one needle each, in order) occur in `text`: 1 or 2 per literal
   * into `state`. False when the hits did not fit (the caller searches one by one).
   */
  literalsIn(text: string, plan: KernelPlan, state: Uint8Array): boolean {
    if (this.planned !== plan.needles) {
      const tables = planTables(plan);
      if (tables === undefined) return false;
      this.bytes.set(tables, 0);
      this.planned = plan.needles;
    }
    // UTF-8 takes at most 3 bytes per UTF-16 unit; the "\n" closes the last line for the kernel.
    this.room(text.length * 3 + 1);
    const n = this.bytes.write(text, DATA, "utf8");
    this.bytes[DATA + n] = 10;
    this.origin = DATA;
    this.dataEnd = DATA + n + 1;
    this.maxLine = plan.maxLine;
    state.fill(2);
    for (let pos = 0; pos < n + 1;) {
      const stop = this.next(pos);
      if (this.overflow) return false;
      for (let i = 0; i < this.candidates; i++) state[this.ints[HIT_AT + i * HIT_INTS + 1] ?? 0] = 1;
      pos = stop;
    }
    return true;
  }

  /**
   * A work buffer of `capacity` bytes in this instance's memory, where prepare() finds data without
   * copying it. A larger capacity later returns a new view (the memory grows in place, keeping the
   * data; older views are then detached and must not be used).
   */
  work(capacity: number): Buffer {
    this.room(capacity);
    return this.bytes.subarray(DATA, DATA + capacity);
  }

  /** Memory held, for the pool's cap. */
  get size(): number {
    return this.bytes.length;
  }

  /** Makes room for `size` bytes of data (and the slack after them). */
  private room(size: number): void {
    const need = DATA + size + SLACK;
    if (need > this.exports.memory.buffer.byteLength) {
      this.exports.memory.grow(Math.ceil((need - this.exports.memory.buffer.byteLength) / PAGE));
      this.bytes = Buffer.from(this.exports.memory.buffer);
      this.ints = new Int32Array(this.exports.memory.buffer);
    }
  }

  /** The caps (runs and candidates per batch) are for tests; the defaults fill the output areas. */
  next(from: number, cap = RUN_CAP, candidateCap = HIT_CAP): number {
    const stop = this.exports.classify(
      from + this.origin,
      this.dataEnd,
      this.maxLine,
      Math.min(cap, RUN_CAP),
      Math.min(candidateCap, HIT_CAP),
    );
    this.last = this.ints[RESULT_AT] ?? 0;
    this.done = this.ints[RESULT_AT + 1] ?? 0;
    this.candidates = this.ints[RESULT_AT + 2] ?? 0;
    // No progress (no "\n" left) leaves hitsIn() nothing to go by: it searches the text then.
    this.overflow = this.ints[RESULT_AT + 3] === 1 || stop <= from + this.origin;
    this.cursor = 0;
    return stop - this.origin;
  }

  /**
   * findHits() for the lines buf[from, to) of the last batch, from the hits the kernel kept (the
   * text is searched again only when they did not all fit). Spans must come in order.
   */
  hitsIn(buf: Buffer, from: number, to: number, out: number[]): void {
    if (this.overflow) {
      findHits(this.planned ?? [], buf, from, to, out);
      return;
    }
    out.length = 0;
    const ints = this.ints;
    let i = this.cursor;
    for (; i < this.candidates; i++) {
      const p = (ints[HIT_AT + i * HIT_INTS] ?? 0) - this.origin;
      if (p >= to) break;
      if (p >= from) out.push(p);
    }
    this.cursor = i;
  }

  get count(): number {
    return this.last;
  }

  get lines(): number {
    return this.done;
  }

  runStart(i: number): number {
    return (this.ints[RUN_AT + i * RUN_INTS] ?? 0) - this.origin;
  }

  runKind(i: number): number {
    return this.ints[RUN_AT + i * RUN_INTS + 1] ?? 0;
  }

  runLine(i: number): number {
    return this.ints[RUN_AT + i * RUN_INTS + 2] ?? 0;
  }
}

/** The needle of a literal for the presence plan: its window rarest where it starts. */
function literalNeedle(literal: string, rarity: Rarity): Needle {
  const text = Buffer.from(literal, "latin1");
  const width = Math.min(4, text.length);
  let best = 0;
  for (let k = 1; k + width <= text.length; k++) if (rarity(literal, k) < rarity(literal, best)) best = k;
  return { bytes: text.subarray(best, best + width), targets: [{ text, offset: best }] };
}

/**
 * A LiteralFinder on its own kernel instance (the bulk path's instance is mid-batch whenever a
 * record is tested): one needle per literal, so a hit's needle index is the literal's index.
 * Undefined when the literals do not fit the kernel or are not all ASCII (the text is written as
 * UTF-8, where an ASCII literal occurs exactly when it occurs in the string).
 */
export function literalFinder(
  literals: readonly string[],
  rarity: Rarity,
  weights?: Float64Array,
): LiteralFinder | undefined {
  const kernel = presenceKernel();
  if (kernel === undefined || !literals.every((l) => l.length > 0 && /^[\x20-\x7e]*$/.test(l))) {
    return undefined;
  }
  const plan: KernelPlan = {
    needles: literals.map((l) => literalNeedle(l, rarity)),
    maxLine: 0x7fffffff,
    ...(weights ? { weights } : {}),
  };
  if (planTables(plan) === undefined) return undefined;
  return (text, state) => kernel.literalsIn(text, plan, state);
}

let loaded: LineKernel | null | undefined;
let presence: LineKernel | null | undefined;

/** This thread's line kernel, or undefined where WebAssembly or the built module is unavailable. */
export function lineKernel(): LineKernel | undefined {
  if (loaded === undefined) loaded = load();
  return loaded ?? undefined;
}

const pool: LineKernel[] = [];
const POOL_MAX = 8;
const POOL_MAX_BYTES = 32 * 1024 * 1024;

/**
 * An instance of its own for a feeder's work buffer (several feeders interleave on one thread in a
 * live scan); release() gives it back for the next feeder.
 */
export function acquireKernel(): LineKernel | undefined {
  if (lineKernel() === undefined) return undefined;
  return pool.pop() ?? load() ?? undefined;
}

export function releaseKernel(kernel: LineKernel): void {
  if (pool.length < POOL_MAX && kernel.size <= POOL_MAX_BYTES) pool.push(kernel);
}

/** A second instance, for literal presence in records. */
function presenceKernel(): LineKernel | undefined {
  if (presence === undefined) presence = lineKernel() === undefined ? null : load();
  return presence ?? undefined;
}

let compiled: object | undefined;
let problem: string | undefined;

/**
 * Why the kernel failed to load (a missing or damaged line-kernel.wasm), once one was asked for;
 * undefined when it loaded, was switched off, or the runtime has no WebAssembly (`--jitless`, as
 * the agent runs), where the JavaScript path is the intended one.
 */
export function kernelLoadProblem(): string | undefined {
  return problem;
}

function load(): LineKernel | null {
  const wasm = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;
  if (wasm === undefined || process.env.CNIDOCTOR_LINE_KERNEL === "off") return null;
  try {
    compiled ??= new wasm.Module(readFileSync(new URL("./line-kernel.wasm", import.meta.url)));
    const kernel = instantiate(wasm, compiled);
    if (typeof kernel !== "string") return kernel;
    problem ??= kernel;
    return null;
  } catch (e) {
    problem ??= e instanceof Error ? e.message : String(e);
    return null;
  }
}

/** An instance of the compiled kernel, or why it cannot serve as one. */
function instantiate(wasm: WasmApi, module: object): LineKernel | string {
  const { exports } = new wasm.Instance(module);
  if (!isExports(exports)) return "line-kernel.wasm does not have the expected exports";
  const other = layoutDifference(exports);
  if (other !== undefined) {
    // A .wasm left from a build of another layout would read and write the wrong addresses.
    return `line-kernel.wasm was built for another memory layout, ${other}; rebuild it with npm run build`;
  }
  return new LineKernel(exports);
}

/** The first entry of KERNEL_LAYOUT the module's `layout.*` globals disagree with, as text. */
function layoutDifference(exports: Exports): string | undefined {
  const all = exports as unknown as Record<string, { value?: unknown } | undefined>;
  for (const [name, value] of Object.entries(KERNEL_LAYOUT)) {
    const found = all[layoutExport(name)]?.value;
    if (found !== value) {
      return `${name} ${typeof found === "number" ? found : "missing"} where kernel-layout.ts has ${value}`;
    }
  }
  return undefined;
}

/** @internal A kernel of the module `bytes`, compiled afresh (tests load modules of other layouts). */
export function kernelOfModule(bytes: Uint8Array): LineKernel | string {
  const wasm = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;
  if (wasm === undefined) return "no WebAssembly";
  return instantiate(wasm, new wasm.Module(bytes));
}
