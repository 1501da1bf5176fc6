// How the live collector stays gentle with an apiserver: a client-side rate limit (token bucket),
// retries with capped exponential backoff and full jitter, and Retry-After honoured on 429/503.
// Pure logic over an injectable clock, so it is tested without waiting.

export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

export interface RetryPolicy {
  /** Attempts in total, the first included. */
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** Returns a number in [0, 1); Math.random in production, fixed in tests. */
  random: () => number;
}

export const DEFAULT_RETRY: RetryPolicy = {
  attempts: 5,
  baseDelayMs: 250,
  maxDelayMs: 8000,
  random: Math.random,
};

/** Full-jitter backoff before retry number `retry` (0 for the first retry). */
export function backoffDelay(retry: number, policy: RetryPolicy): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** retry);
  return Math.floor(policy.random() * ceiling);
}

/** Retry-After as milliseconds: delta-seconds or an HTTP date; undefined when absent or unusable. */
export function retryAfterMs(header: string | undefined, nowMs: number): number | undefined {
  if (header === undefined || header.trim() === "") return undefined;
  const text = header.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const at = Date.parse(text);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - nowMs);
}

const RETRY_STATUS = new Set([429, 500, 502, 503, 504]);
const RETRY_CODES = new Set([
  "ECONNRESET",
  "ECONNREFUSED",
  "ETIMEDOUT",
  "EPIPE",
  "EAI_AGAIN",
  "UND_ERR_SOCKET",
  "TIMEOUT",
  "CONNECT_TIMEOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
]);

/**
 * Failures before any byte came back from the server: nothing listens (refused), no route, no
 * such host, or the connection was never made before the request timeout. Against a server that
 * has not answered once in this run, retrying these only adds backoff to a certain failure.
 */
const UNREACHABLE_CODES = new Set([
  "ECONNREFUSED",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENOTFOUND",
  "EADDRNOTAVAIL",
  "ETIMEDOUT",
  "EAI_AGAIN",
  "CONNECT_TIMEOUT",
]);

export function isUnreachable(outcome: AttemptOutcome): boolean {
  return outcome.kind === "error" && UNREACHABLE_CODES.has(outcome.code);
}

/** What one attempt came to, as far as retrying is concerned. */
export type AttemptOutcome =
  { kind: "status"; status: number; retryAfter?: string } | { kind: "error"; code: string };

export function isRetryable(outcome: AttemptOutcome): boolean {
  return outcome.kind === "status" ? RETRY_STATUS.has(outcome.status) : RETRY_CODES.has(outcome.code);
}

/**
 * The wait before the next attempt: the server's Retry-After when it gave one (capped at the
 * policy's maximum, so a hostile header cannot stall a scan), else jittered backoff.
 */
export function delayBeforeRetry(
  retry: number,
  outcome: AttemptOutcome,
  policy: RetryPolicy,
  nowMs: number,
): number {
  const backoff = backoffDelay(retry, policy);
  if (outcome.kind === "status") {
    const server = retryAfterMs(outcome.retryAfter, nowMs);
    if (server !== undefined) return Math.min(policy.maxDelayMs, Math.max(server, backoff));
  }
  return backoff;
}

/**
 * Token bucket: `burst` requests at once, then `qps` per second. Callers reserve a token and wait
 * out the debt, so waiters are served in arrival order and never spin.
 */
export class RateLimiter {
  private tokens: number;
  private last: number;

  constructor(
    private readonly qps: number,
    private readonly burst: number,
    private readonly clock: Clock,
  ) {
    if (!(qps > 0) || !(burst >= 1)) throw new RangeError("qps must be > 0 and burst >= 1");
    this.tokens = burst;
    this.last = clock.now();
  }

  /** Milliseconds the caller must wait for its token (0 when one is available); reserves it. */
  reserve(): number {
    const now = this.clock.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.qps);
    this.last = now;
    this.tokens -= 1;
    return this.tokens >= 0 ? 0 : Math.ceil((-this.tokens / this.qps) * 1000);
  }

  async take(): Promise<void> {
    const wait = this.reserve();
    if (wait > 0) await this.clock.sleep(wait);
  }
}

export interface AttemptResult<T> {
  outcome: AttemptOutcome;
  /** Present when the attempt produced a final answer (success or a non-retryable status). */
  value?: T;
}

/**
 * Runs `attempt` until it yields a value, a non-retryable outcome, or the attempts run out. Every
 * attempt first takes a rate-limit token. Returns the last outcome alongside any value.
 */
export async function withRetry<T>(
  attempt: () => Promise<AttemptResult<T>>,
  deps: {
    policy: RetryPolicy;
    limiter: RateLimiter;
    clock: Clock;
    onRetry?: (o: AttemptOutcome) => void;
    /** True for an outcome not worth retrying this time although it is retryable in general. */
    giveUp?: (o: AttemptOutcome) => boolean;
  },
): Promise<{ value?: T; outcome: AttemptOutcome; attempts: number }> {
  let last: AttemptOutcome = { kind: "error", code: "NOT_ATTEMPTED" };
  for (let i = 0; i < deps.policy.attempts; i++) {
    await deps.limiter.take();
    const r = await attempt();
    last = r.outcome;
    if (
      r.value !== undefined ||
      !isRetryable(r.outcome) ||
      deps.giveUp?.(r.outcome) === true ||
      i === deps.policy.attempts - 1
    )
      return { ...(r.value !== undefined ? { value: r.value } : {}), outcome: r.outcome, attempts: i + 1 };
    deps.onRetry?.(r.outcome);
    await deps.clock.sleep(delayBeforeRetry(i, r.outcome, deps.policy, deps.clock.now()));
  }
  return { outcome: last, attempts: deps.policy.attempts };
}
