import { describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  RateLimiter,
  backoffDelay,
  delayBeforeRetry,
  isRetryable,
  retryAfterMs,
  withRetry,
  type AttemptOutcome,
  type AttemptResult,
  type Clock,
  type RetryPolicy,
} from "./policy.js";

/** A clock that only moves when someone sleeps; records every sleep. */
function fakeClock(start = 1_000_000): Clock & { sleeps: number[] } {
  let t = start;
  const sleeps: number[] = [];
  return {
    sleeps,
    now: () => t,
    sleep: (ms) => {
      sleeps.push(ms);
      t += ms;
      return Promise.resolve();
    },
  };
}

const policy = (random = 0.5, attempts = 5): RetryPolicy => ({
  attempts,
  baseDelayMs: 100,
  maxDelayMs: 1000,
  random: () => random,
});

describe("backoff", () => {
  test("doubles the ceiling per retry up to the maximum, scaled by jitter", () => {
    assert.deepEqual(
      [0, 1, 2, 3, 4, 5].map((i) => backoffDelay(i, policy(0.5))),
      [50, 100, 200, 400, 500, 500],
    );
    assert.equal(backoffDelay(3, policy(0)), 0);
    assert.equal(backoffDelay(3, policy(0.999)), 799);
  });

  test("Retry-After as seconds or an HTTP date; junk ignored", () => {
    const now = Date.parse("2026-01-01T00:00:00Z");
    assert.equal(retryAfterMs("3", now), 3000);
    assert.equal(retryAfterMs("Thu, 01 Jan 2026 00:00:02 GMT", now), 2000);
    assert.equal(retryAfterMs("Wed, 31 Dec 2025 00:00:00 GMT", now), 0);
    assert.equal(retryAfterMs("soon", now), undefined);
    assert.equal(retryAfterMs(undefined, now), undefined);
  });

  test("the server's Retry-After wins over a shorter backoff, capped at the maximum", () => {
    const p = policy(0.5);
    assert.equal(delayBeforeRetry(0, { kind: "status", status: 429, retryAfter: "1" }, p, 0), 1000);
    assert.equal(delayBeforeRetry(0, { kind: "status", status: 429, retryAfter: "120" }, p, 0), 1000);
    assert.equal(delayBeforeRetry(1, { kind: "status", status: 503 }, p, 0), 100);
    assert.equal(delayBeforeRetry(2, { kind: "error", code: "ECONNRESET" }, p, 0), 200);
  });

  test("what is retried: 429, 5xx gateway/server errors, timeouts and resets; not 4xx answers", () => {
    const yes: AttemptOutcome[] = [
      { kind: "status", status: 429 },
      { kind: "status", status: 500 },
      { kind: "status", status: 503 },
      { kind: "error", code: "ECONNRESET" },
      { kind: "error", code: "TIMEOUT" },
    ];
    const no: AttemptOutcome[] = [
      { kind: "status", status: 200 },
      { kind: "status", status: 403 },
      { kind: "status", status: 404 },
      { kind: "status", status: 410 },
      { kind: "error", code: "CERT_HAS_EXPIRED" },
    ];
    for (const o of yes) assert.equal(isRetryable(o), true, JSON.stringify(o));
    for (const o of no) assert.equal(isRetryable(o), false, JSON.stringify(o));
  });
});

describe("rate limiter", () => {
  test("lets a burst through, then spaces requests at 1/qps", async () => {
    const clock = fakeClock();
    const limiter = new RateLimiter(10, 3, clock);
    for (let i = 0; i < 6; i++) await limiter.take();
    assert.deepEqual(clock.sleeps, [100, 100, 100]);
  });

  test("refills while idle, never above the burst", async () => {
    const clock = fakeClock();
    const limiter = new RateLimiter(2, 2, clock);
    await limiter.take();
    await limiter.take();
    await clock.sleep(10_000);
    clock.sleeps.length = 0;
    for (let i = 0; i < 3; i++) await limiter.take();
    assert.deepEqual(clock.sleeps, [500]);
  });

  test("concurrent callers queue up in arrival order", () => {
    const clock = fakeClock();
    const limiter = new RateLimiter(4, 1, clock);
    assert.deepEqual(
      [0, 1, 2, 3].map(() => limiter.reserve()),
      [0, 250, 500, 750],
    );
  });

  test("rejects nonsense settings", () => {
    assert.throws(() => new RateLimiter(0, 1, fakeClock()), RangeError);
    assert.throws(() => new RateLimiter(1, 0, fakeClock()), RangeError);
  });
});

describe("withRetry", () => {
  function script(outcomes: AttemptResult<string>[]): {
    fn: () => Promise<AttemptResult<string>>;
    calls: () => number;
  } {
    let i = 0;
    return {
      fn: () => Promise.resolve(outcomes[Math.min(i++, outcomes.length - 1)] as AttemptResult<string>),
      calls: () => i,
    };
  }

  test("retries transient failures until a value arrives, honouring Retry-After", async () => {
    const clock = fakeClock();
    const s = script([
      { outcome: { kind: "status", status: 429, retryAfter: "1" } },
      { outcome: { kind: "error", code: "ECONNRESET" } },
      { outcome: { kind: "status", status: 200 }, value: "ok" },
    ]);
    const limiter = new RateLimiter(1000, 1000, clock);
    const r = await withRetry(s.fn, { policy: policy(0.5), limiter, clock });
    assert.equal(r.value, "ok");
    assert.equal(r.attempts, 3);
    assert.deepEqual(clock.sleeps, [1000, 100]);
  });

  test("stops at once on an answer that retrying cannot change", async () => {
    const clock = fakeClock();
    const s = script([{ outcome: { kind: "status", status: 403 } }]);
    const r = await withRetry(s.fn, { policy: policy(), limiter: new RateLimiter(1000, 1000, clock), clock });
    assert.equal(r.value, undefined);
    assert.equal(r.attempts, 1);
    assert.deepEqual(r.outcome, { kind: "status", status: 403 });
    assert.deepEqual(clock.sleeps, []);
  });

  test("gives up after the last attempt and reports the last outcome", async () => {
    const clock = fakeClock();
    const s = script([{ outcome: { kind: "status", status: 503 } }]);
    let retries = 0;
    const r = await withRetry(s.fn, {
      policy: policy(0.5, 4),
      limiter: new RateLimiter(1000, 1000, clock),
      clock,
      onRetry: () => retries++,
    });
    assert.equal(s.calls(), 4);
    assert.equal(retries, 3);
    assert.equal(r.attempts, 4);
    assert.deepEqual(r.outcome, { kind: "status", status: 503 });
    assert.deepEqual(clock.sleeps, [50, 100, 200]);
  });

  test("every attempt, retries included, takes a rate-limit token", async () => {
    const clock = fakeClock();
    const s = script([
      { outcome: { kind: "status", status: 500 } },
      { outcome: { kind: "status", status: 200 }, value: "ok" },
    ]);
    const limiter = new RateLimiter(1, 1, clock);
    await withRetry(s.fn, { policy: policy(0), limiter, clock });
    // First token free; the jittered backoff is 0 ms, so the retry waits a full second for its token.
    assert.deepEqual(clock.sleeps, [0, 1000]);
  });
});
