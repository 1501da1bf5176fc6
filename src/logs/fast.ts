// Feeding bytes to the scanner's bulk path: a work buffer that holds what is not scanned yet (the
// record still open and a line without its "\n"), the needle plan, and the cases the bulk path
// leaves to the exact one (non-ASCII buffers, lines longer than the line cap).

import { isAscii } from "node:buffer";
import { acquireKernel, literalFinder, releaseKernel, type LineKernel } from "./kernel.js";
import { byteRarity, byteWeights, findHits, gramRarity, planNeedles, type Needle } from "./needles.js";
import { pushLines } from "./record-assembly.js";
import type { LogScanner } from "./scanner.js";
import type { SignatureSet } from "./signatures.js";

const NEWLINE = 10;
/** Bytes sampled to rank byte rarity for the needle plan. */
const SAMPLE_BYTES = 256 * 1024;
/**
 * Input held back before the first bulk scan. An input that ends sooner goes the exact way whole:
 * a live scan reads thousands of pod logs, most of them a few lines long, and making a needle plan
 * for those cost more than scanning them.
 */
const PLAN_AFTER_BYTES = 64 * 1024;

export class FastFeeder {
  private work: Buffer;
  private have = 0;
  private needles: Needle[] | undefined;
  private weights: Float64Array | undefined;
  private readonly hits: number[] = [];
  private readonly maxLine: number;
  /** An over-long line being skipped: its first maxLine bytes, and how many more were seen. */
  private keep: Buffer | undefined;
  private skipped = 0;
  private kernel: LineKernel | undefined;
  private readonly planAfter: number;

  /**
   * `kernel: false` keeps to the JS path; `planAfter` overrides PLAN_AFTER_BYTES (tests compare
   * paths on small inputs).
   */
  constructor(
    private readonly scanner: LogScanner,
    private readonly set: SignatureSet,
    capacity = 4 * 1024 * 1024,
    options: { kernel?: boolean; planAfter?: number } = {},
  ) {
    this.maxLine = scanner.lineLimit;
    this.planAfter = options.planAfter ?? PLAN_AFTER_BYTES;
    this.kernel = options.kernel === false ? undefined : acquireKernel();
    // With the kernel, the work buffer lives in its memory: reads land where it scans.
    this.work = this.kernel ? this.kernel.work(capacity) : Buffer.allocUnsafe(capacity);
  }

  /** Room for `n` more bytes at the end of the work buffer (for reading straight into it). */
  reserve(n: number): Buffer {
    this.ensure(this.have + n);
    return this.work.subarray(this.have, this.have + n);
  }

  /** The first `n` bytes of the last reserve() now hold data. */
  commit(n: number): void {
    if (n <= 0) return;
    if (this.keep !== undefined) {
      const chunk = Buffer.from(this.work.subarray(this.have, this.have + n));
      this.feedSkipping(chunk);
      return;
    }
    this.have += n;
    this.process();
  }

  feed(chunk: Buffer): void {
    if (this.keep !== undefined) {
      this.feedSkipping(chunk);
      return;
    }
    this.reserve(chunk.length);
    chunk.copy(this.work, this.have);
    this.have += chunk.length;
    this.process();
  }

  /** Ends the input: what is left (an open record, a last line without "\\n") goes the exact way. */
  end(): void {
    if (this.keep !== undefined) {
      this.scanner.pushBlock(this.keep.toString("utf8"), this.keep.length + this.skipped, true);
      this.keep = undefined;
    } else {
      const buf = this.work;
      const last = buf.subarray(0, this.have).lastIndexOf(NEWLINE);
      if (last >= 0) pushLines(this.scanner, buf, 0, last, this.maxLine);
      if (last + 1 < this.have) {
        const size = this.have - (last + 1);
        const cut = Math.min(size, this.maxLine);
        this.scanner.pushBlock(buf.toString("utf8", last + 1, last + 1 + cut), size, size > this.maxLine);
      }
      this.have = 0;
    }
    // The kernel instance (and the work buffer in its memory) goes back to the pool; a feeder
    // used after end() starts over on the JS path.
    if (this.kernel) {
      releaseKernel(this.kernel);
      this.kernel = undefined;
      this.work = Buffer.allocUnsafe(0);
    }
  }

  private ensure(size: number): void {
    if (size <= this.work.length) return;
    if (this.kernel) {
      this.work = this.kernel.work(Math.max(size, this.work.length * 2));
      return;
    }
    const grown = Buffer.allocUnsafe(Math.max(size, this.work.length * 2));
    this.work.copy(grown, 0, 0, this.have);
    this.work = grown;
  }

  private feedSkipping(chunk: Buffer): void {
    const nl = chunk.indexOf(NEWLINE);
    if (nl < 0) {
      this.skipped += chunk.length;
      return;
    }
    const keep = this.keep ?? Buffer.alloc(0);
    this.scanner.pushBlock(keep.toString("utf8"), keep.length + this.skipped + nl + 1, true);
    this.keep = undefined;
    this.skipped = 0;
    if (nl + 1 < chunk.length) this.feed(chunk.subarray(nl + 1));
  }

  private process(): void {
    if (this.needles === undefined && this.have < this.planAfter) return;
    const buf = this.work;
    const have = this.have;
    const last = buf.subarray(0, have).lastIndexOf(NEWLINE);
    let stop = 0;
    if (last >= 0) stop = this.scanLines(buf, last + 1);
    const tailLine = have - (last + 1);
    if (tailLine > this.maxLine) {
      // A line longer than the cap: what precedes it goes the exact way, the line is cut and its
      // rest skipped until its "\n" (as the line reader does).
      if (stop <= last) pushLines(this.scanner, buf, stop, last, this.maxLine);
      this.keep = Buffer.from(buf.subarray(last + 1, last + 1 + this.maxLine));
      this.skipped = tailLine - this.maxLine;
      this.have = 0;
      return;
    }
    if (stop > 0) buf.copyWithin(0, stop, have);
    this.have = have - stop;
  }

  /** Scans complete lines buf[0, end); returns where unscanned bytes begin. */
  private scanLines(buf: Buffer, end: number): number {
    if (!isAscii(buf.subarray(0, end))) {
      pushLines(this.scanner, buf, 0, end - 1, this.maxLine);
      return end;
    }
    if (this.needles === undefined) {
      const sample = buf.subarray(0, Math.min(end, SAMPLE_BYTES));
      this.weights = byteWeights(sample);
      const grams = this.kernel ? gramRarity(sample) : undefined;
      this.needles = planNeedles(this.set, grams ?? byteRarity(sample));
      const finder = grams ? literalFinder(this.set.literals, grams, this.weights) : undefined;
      if (finder) this.scanner.useLiteralFinder(finder);
    }
    const needles = this.needles;
    const plan = { needles, maxLine: this.maxLine, ...(this.weights ? { weights: this.weights } : {}) };
    if (this.kernel?.prepare(buf, 0, end, plan)) {
      const kernel = this.kernel;
      return this.scanner.scanAsciiRuns(buf, 0, end, kernel, (from, to, out) => {
        kernel.hitsIn(buf, from, to, out);
      });
    }
    findHits(needles, buf, 0, end, this.hits);
    return this.scanner.scanAscii(buf, 0, end, this.hits);
  }
}
