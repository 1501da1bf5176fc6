// Robust statistics for resource trends: medians, the Theil–Sen slope with Sen's rank-based
// confidence interval, and splitting a series into segments at restarts and level shifts so a
// sawtooth of leak-then-restart reads as a leak and a one-off step does not.
//
// The slope is pooled over segments the way the seasonal Kendall test pools seasons: only pairs of
// points inside the same segment contribute slopes, and the variance of Kendall's S is the sum of
// the per-segment variances. A reset between segments therefore never drags the slope down.

export interface Point {
  /** Hours (any origin). */
  x: number;
  /** MiB, cores, … */
  y: number;
}

export interface SlopeEstimate {
  /** Median of the within-segment pairwise slopes, in y per x. */
  slope: number;
  /** Rank-based confidence interval of the slope at `confidence` (two-sided). */
  low: number;
  high: number;
  confidence: number;
  /** Points and pairwise slopes used. */
  points: number;
  pairs: number;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  const hi = s[mid] ?? Number.NaN;
  return s.length % 2 === 1 ? hi : ((s[mid - 1] ?? hi) + hi) / 2;
}

/** Median absolute deviation scaled to estimate a normal standard deviation. */
export function robustSigma(values: readonly number[]): number {
  const m = median(values);
  return 1.4826 * median(values.map((v) => Math.abs(v - m)));
}

/**
 * Inverse of the standard normal CDF (Acklam's rational approximation, relative error < 1.2e-9),
 * for p in (0, 1).
 */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError(`normalQuantile: p must be in (0, 1), got ${p}`);
  const a = [
    -39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716,
    2.506628277459239,
  ];
  const b = [
    -54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572,
  ];
  const c = [
    -0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968,
    2.938163982698783,
  ];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const poly = (k: readonly number[], x: number): number => k.reduce((acc, coef) => acc * x + coef, 0);
  const low = 0.02425;
  if (p < low) {
    const q = Math.sqrt(-2 * Math.log(p));
    return poly(c, q) / (poly(d, q) * q + 1);
  }
  if (p > 1 - low) {
    const q = Math.sqrt(-2 * Math.log(1 - p));
    return -poly(c, q) / (poly(d, q) * q + 1);
  }
  const q = p - 0.5;
  const r = q * q;
  return (poly(a, r) * q) / (poly(b, r) * r + 1);
}

/** Keeps at most `max` points, evenly spread, always including the first and the last. */
export function thin<T>(points: readonly T[], max: number): T[] {
  if (points.length <= max) return [...points];
  const out: T[] = [];
  const step = (points.length - 1) / (max - 1);
  for (let i = 0; i < max; i++) {
    const p = points[Math.round(i * step)];
    if (p !== undefined) out.push(p);
  }
  return out;
}

/**
 * Theil–Sen slope pooled over segments, with Sen's interval: with N pairwise slopes sorted and
 * C = z(1-(1-confidence)/2) · sqrt(Σ n(n-1)(2n+5)/18), the bounds are the slopes at ranks
 * (N-C)/2 and (N+C)/2 + 1. Segments with fewer than 2 points contribute nothing. Returns undefined
 * when there are no pairs at all.
 */
export function theilSen(
  segments: readonly (readonly Point[])[],
  confidence: number,
): SlopeEstimate | undefined {
  const slopes: number[] = [];
  let variance = 0;
  let points = 0;
  for (const seg of segments) {
    const n = seg.length;
    if (n < 2) continue;
    points += n;
    variance += (n * (n - 1) * (2 * n + 5)) / 18;
    for (let i = 0; i < n; i++) {
      const pi = seg[i];
      if (!pi) continue;
      for (let j = i + 1; j < n; j++) {
        const pj = seg[j];
        if (pj && pj.x !== pi.x) slopes.push((pj.y - pi.y) / (pj.x - pi.x));
      }
    }
  }
  const total = slopes.length;
  if (total === 0) return undefined;
  slopes.sort((a, b) => a - b);
  const c = normalQuantile(1 - (1 - confidence) / 2) * Math.sqrt(variance);
  const clamp = (rank: number): number => Math.min(total - 1, Math.max(0, rank));
  const lowRank = clamp(Math.floor((total - c) / 2) - 1);
  const highRank = clamp(Math.ceil((total + c) / 2));
  return {
    slope: median(slopes),
    low: slopes[lowRank] ?? Number.NaN,
    high: slopes[highRank] ?? Number.NaN,
    confidence,
    points,
    pairs: total,
  };
}

export interface SplitOptions {
  /** Indices (into the points) at which a new segment starts for a known reason (a restart). */
  breaks?: readonly number[];
  /**
   * A jump between neighbours counts as a reset or level shift when it departs from the typical
   * step by more than `jumpSigmas` robust sigmas of the first differences and by at least
   * `minJump` (absolute, in y units).
   */
  jumpSigmas: number;
  minJump: number;
}

export interface Split {
  segments: Point[][];
  /** Segment starts caused by a fall (a reset: restart or OOM kill). */
  resets: number[];
  /** Segment starts caused by a rise (a level shift, e.g. after an upgrade). */
  shifts: number[];
}

/** Splits a series at given breaks and at abrupt jumps up (level shifts) or down (resets). */
export function splitSegments(points: readonly Point[], opts: SplitOptions): Split {
  const diffs: number[] = [];
  for (let i = 1; i < points.length; i++) diffs.push((points[i]?.y ?? 0) - (points[i - 1]?.y ?? 0));
  const typical = median(diffs);
  const sigma = robustSigma(diffs);
  const limit = Math.max(opts.jumpSigmas * sigma, opts.minJump);
  const breaks = new Set(opts.breaks ?? []);
  const segments: Point[][] = [];
  const resets: number[] = [];
  const shifts: number[] = [];
  let current: Point[] = [];
  points.forEach((p, i) => {
    const d = diffs[i - 1];
    const jump = d !== undefined && Math.abs(d - typical) > limit;
    if (i > 0 && (breaks.has(i) || jump)) {
      segments.push(current);
      current = [];
      // A known break is a restart; an unexplained jump is a reset when it falls.
      if (breaks.has(i) || (d ?? 0) < typical) resets.push(i);
      else shifts.push(i);
    }
    current.push(p);
  });
  if (current.length > 0) segments.push(current);
  return { segments, resets, shifts };
}
