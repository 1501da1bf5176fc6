// What one read of a source (all the members of a rotated set) shares: progress reports, the
// --sample rule that may stop it early, the --since/--until window, and the scanners and sinks it
// makes with them.

import { FastFeeder } from "./fast.js";
import type { ReadOptions, ScanOptions, SignatureMatch } from "./scan-types.js";
import { LogScanner } from "./scanner.js";
import type { SignatureSet } from "./signatures.js";
import { WindowFilter, type ByteSink, type TimeWindow } from "./window.js";

/** --sample: symptom records that settle the question, and the time they must span. */
export const SAMPLE_MIN_SYMPTOMS = 20;
export const SAMPLE_MIN_SPAN_MS = 10 * 60_000;
export const SAMPLE_RULE = `${SAMPLE_MIN_SYMPTOMS} symptom records spanning ${SAMPLE_MIN_SPAN_MS / 60_000} minutes`;

/** Counts symptom matches for --sample. */
class Sampler {
  private count = 0;
  private first = Number.POSITIVE_INFINITY;
  private last = Number.NEGATIVE_INFINITY;
  reached = false;

  note(match: SignatureMatch): void {
    if (match.role !== "symptom") return;
    this.count++;
    if (match.time !== undefined) {
      this.first = Math.min(this.first, match.time);
      this.last = Math.max(this.last, match.time);
    }
    this.reached = this.count >= SAMPLE_MIN_SYMPTOMS && this.last - this.first >= SAMPLE_MIN_SPAN_MS;
  }
}

const PROGRESS_STEP = 4 * 1024 * 1024;

/** What one read of a source (all its members) shares: progress, the sampler, the window. */
export class SetRun {
  bytesRead = 0;
  private skipped = 0;
  private reported = 0;
  readonly sampler: Sampler | undefined;
  window: TimeWindow | undefined;

  constructor(
    readonly set: SignatureSet,
    readonly options: ReadOptions,
    readonly total: number | undefined,
  ) {
    this.sampler = options.sample === true ? new Sampler() : undefined;
  }

  get stop(): boolean {
    return this.sampler?.reached ?? false;
  }

  advance(n: number): void {
    this.bytesRead += n;
    if (this.bytesRead + this.skipped - this.reported >= PROGRESS_STEP) this.report();
  }

  /** Bytes a window's binary search passed over: progress counts them, bytesRead does not. */
  skipBytes(n: number): void {
    this.skipped += n;
  }

  report(): void {
    const done = this.bytesRead + this.skipped;
    if (this.options.onProgress === undefined || done === this.reported) return;
    this.reported = done;
    this.options.onProgress(done, this.total);
  }

  scanner(referenceTime: Date | undefined): LogScanner {
    const sampler = this.sampler;
    const { onMatch } = this.options;
    const options: ScanOptions = { ...this.options };
    if (referenceTime !== undefined) options.referenceTime = this.options.referenceTime ?? referenceTime;
    if (sampler !== undefined) {
      options.onMatch = (m) => {
        sampler.note(m);
        onMatch?.(m);
      };
    }
    return new LogScanner(this.set, options);
  }

  sink(scanner: LogScanner, capacity?: number): { feeder: FastFeeder; sink: ByteSink } {
    const feeder = new FastFeeder(scanner, this.set, capacity);
    return { feeder, sink: this.window === undefined ? feeder : new WindowFilter(feeder, this.window) };
  }
}
