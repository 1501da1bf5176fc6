// The one HTTP client every cnidoctor process uses for the Kubernetes API (scan, collect, plan,
// apply, rollback, the agent), built on credentials resolved beforehand (kube/endpoint.ts, in a
// short-lived child process: no long-running process loads @kubernetes/client-node). It gives in
// one place what a scan of thousands of nodes and a careful apply need: a timeout on every request,
// retries with backoff and jitter (Retry-After honoured; writes only when the server refused them
// unprocessed), a client-side rate limit, paginated lists, log streams handed over as byte streams
// (never buffered), and the few writes apply, its Lease and the agent make.

import type { Agent as HttpAgent, ClientRequest, IncomingMessage } from "node:http";
import type { RequestOptions } from "node:https";
import { http, https } from "./builtins.js";
import type { ResolvedEndpoint } from "./endpoint.js";
import {
  DEFAULT_RETRY,
  RateLimiter,
  systemClock,
  isUnreachable,
  withRetry,
  type AttemptOutcome,
  type AttemptResult,
  type Clock,
  type RetryPolicy,
} from "./policy.js";

export interface ClientOptions {
  /** Per-request timeout (headers and body of JSON requests; idle time between log chunks). */
  timeoutMs: number;
  qps: number;
  burst: number;
  /** Open connections at most (keep-alive). */
  maxSockets: number;
  retry?: RetryPolicy;
  clock?: Clock;
  userAgent?: string;
  /**
   * The bearer token, asked for before every request (an in-cluster service account token file
   * rotates); when it gives one it replaces the endpoint's Authorization header.
   */
  token?: () => Promise<string | undefined>;
}

export const DEFAULT_CLIENT: ClientOptions = { timeoutMs: 30_000, qps: 100, burst: 200, maxSockets: 32 };

export type Obj = Record<string, unknown>;

export interface ApiFailure {
  ok: false;
  /** The HTTP status, when the server answered. */
  status?: number;
  /** One line for people: "METHOD PATH: what went wrong[ after N attempts]". */
  problem: string;
  /** The server's own message (a Status body's `message`), "" when there was none. */
  message: string;
  /** Why no answer came (TIMEOUT, CONNECT_TIMEOUT, ECONNREFUSED, DEADLINE…), when none did. */
  code?: string;
}
export type ApiResult<T> = { ok: true; value: T } | ApiFailure;

/** Request counts for the benchmark and for tests of the fault handling. */
export interface ClientStats {
  requests: number;
  retries: number;
  failures: number;
}

const MAX_ERROR_BODY = 64 * 1024;
const MAX_JSON_BODY = 512 * 1024 * 1024;

/** The error code of requests cut by abort() (the overall --timeout): never retried. */
export const DEADLINE = "DEADLINE";

/** The request got no answer within the per-request timeout (it may still have been processed). */
export function timedOut(f: ApiFailure): boolean {
  return f.code === "TIMEOUT" || f.code === "CONNECT_TIMEOUT";
}

export type Method = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

export type PatchType = "merge" | "strategic" | "json";

const PATCH_CONTENT: Readonly<Record<PatchType, string>> = {
  merge: "application/merge-patch+json",
  strategic: "application/strategic-merge-patch+json",
  json: "application/json-patch+json",
};

/** Query parameters of a write: a server-side dry-run, and who manages the fields it sets. */
export interface WriteOptions {
  dryRun?: boolean;
  fieldManager?: string;
}

function withQuery(path: string, o: WriteOptions): string {
  const params = new URLSearchParams();
  if (o.dryRun === true) params.set("dryRun", "All");
  if (o.fieldManager !== undefined) params.set("fieldManager", o.fieldManager);
  const q = params.toString();
  return q === "" ? path : `${path}${path.includes("?") ? "&" : "?"}${q}`;
}

interface Payload {
  text: string;
  contentType: string;
}

function problemOf(outcome: AttemptOutcome, detail: string): string {
  if (outcome.kind === "error" && outcome.code === DEADLINE) return `not read: ${detail}`;
  if (outcome.kind === "error")
    return `request failed (${outcome.code})${detail !== "" ? `: ${detail}` : ""}`;
  const what =
    outcome.status === 403
      ? "forbidden"
      : outcome.status === 404
        ? "not found"
        : outcome.status === 401
          ? "unauthorized"
          : `HTTP ${outcome.status}`;
  return `${what}${detail !== "" ? `: ${detail}` : ""}`;
}

/** The `message` of a Kubernetes Status body, else the first line of the text. */
function statusMessage(body: string): string {
  try {
    const parsed = JSON.parse(body) as { message?: unknown };
    if (typeof parsed.message === "string") return parsed.message;
  } catch {
    // not JSON; fall through to the text
  }
  return (body.split("\n")[0] ?? "").slice(0, 300);
}

function errorCode(e: unknown): string {
  const code = (e as { code?: unknown }).code;
  return typeof code === "string" ? code : "ERROR";
}

async function readBody(res: IncomingMessage, cap: number): Promise<string> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of res) {
    const buf = chunk as Buffer;
    size += buf.length;
    if (size > cap)
      throw Object.assign(new Error(`response larger than ${cap} bytes`), { code: "TOO_LARGE" });
    parts.push(buf);
  }
  return Buffer.concat(parts).toString("utf8");
}

interface Call {
  method: Method;
  path: string;
  accept: string;
  payload?: Payload;
  /** A write that changes nothing (a dry-run): retried like a read. */
  retryAll?: boolean;
}

export class KubeClient {
  readonly server: string;
  readonly stats: ClientStats = { requests: 0, retries: 0, failures: 0 };
  private readonly limiter: RateLimiter;
  private readonly clock: Clock;
  private readonly retry: RetryPolicy;
  /** Requests in flight, so abort() can cut them. */
  private readonly active = new Set<ClientRequest>();
  /** Why the client was aborted (set once the overall deadline passed). */
  private abortedBecause: string | undefined;
  /** Pending waits, woken by abort(). */
  private readonly wakers = new Set<() => void>();
  /**
   * Whether the server has sent any response in this run. Until it has, a request that could not
   * even reach it (refused, no route, never connected) is not retried: the command fails at once
   * instead of backing off against a port where nothing listens.
   */
  private answered = false;

  private constructor(
    private readonly base: RequestOptions,
    private readonly agent: HttpAgent,
    private readonly secure: boolean,
    private readonly options: ClientOptions,
    server: string,
  ) {
    this.server = server.replace(/\/+$/, "");
    const timing = options.clock ?? systemClock;
    // Waits (rate limit, backoff, pauses between samples) end early on abort(): a queue of
    // requests behind a low --qps must not keep the command alive past the overall deadline. With
    // the system clock the timer is also cleared, or it would hold the process open until it fired.
    this.clock = {
      now: () => timing.now(),
      sleep: (ms) =>
        this.abortedBecause !== undefined
          ? Promise.resolve()
          : new Promise<void>((resolve) => {
              let timer: NodeJS.Timeout | undefined;
              const wake = (): void => {
                clearTimeout(timer);
                this.wakers.delete(wake);
                resolve();
              };
              this.wakers.add(wake);
              if (options.clock) void options.clock.sleep(ms).then(wake);
              else timer = setTimeout(wake, ms);
            }),
    };
    this.retry = options.retry ?? DEFAULT_RETRY;
    this.limiter = new RateLimiter(options.qps, options.burst, this.clock);
  }

  /** A client for an endpoint resolved beforehand (possibly in another process). */
  static fromEndpoint(endpoint: ResolvedEndpoint, options: ClientOptions): KubeClient {
    const secure = !endpoint.server.startsWith("http:");
    const tls = {
      ...(endpoint.ca !== undefined ? { ca: endpoint.ca } : {}),
      ...(endpoint.cert !== undefined ? { cert: endpoint.cert } : {}),
      ...(endpoint.key !== undefined ? { key: endpoint.key } : {}),
      ...(endpoint.rejectUnauthorized !== undefined
        ? { rejectUnauthorized: endpoint.rejectUnauthorized }
        : {}),
      ...(endpoint.servername !== undefined ? { servername: endpoint.servername } : {}),
    };
    const agentOptions = { keepAlive: true, maxSockets: options.maxSockets };
    const agent = secure ? new https.Agent({ ...agentOptions, ...tls }) : new http.Agent(agentOptions);
    const headers: Record<string, string> = { ...endpoint.headers };
    headers["User-Agent"] = options.userAgent ?? "cnidoctor";
    return new KubeClient({ headers, ...tls }, agent, secure, options, endpoint.server);
  }

  /** The per-request timeout (for messages that name it). */
  get timeoutMs(): number {
    return this.options.timeoutMs;
  }

  close(): void {
    this.agent.destroy();
  }

  /**
   * Ends all reading now: requests in flight (and log streams) are cut, later ones fail at once
   * without retries. Every caller turns the failure into a coverage gap, so what was read stays.
   */
  abort(reason: string): void {
    if (this.abortedBecause !== undefined) return;
    this.abortedBecause = reason;
    for (const req of this.active) req.destroy(Object.assign(new Error(reason), { code: DEADLINE }));
    this.active.clear();
    for (const wake of [...this.wakers]) wake();
  }

  /** A wait that ends early when the client is aborted (for pauses between samples). */
  sleep(ms: number): Promise<void> {
    return this.clock.sleep(ms);
  }

  get aborted(): string | undefined {
    return this.abortedBecause;
  }

  /** One attempt: resolves with the response once headers arrived, or an outcome. */
  private async send(
    method: Method,
    path: string,
    accept: string,
    payload: Payload | undefined,
  ): Promise<{ res?: IncomingMessage; outcome: AttemptOutcome }> {
    const url = new URL(this.server + path);
    const requestFn = this.secure ? https.request : http.request;
    if (this.abortedBecause !== undefined) return { outcome: { kind: "error", code: DEADLINE } };
    const headers: Record<string, string> = {
      ...(this.base.headers as Record<string, string>),
      Accept: accept,
    };
    const token = await this.options.token?.();
    if (token !== undefined && token !== "") headers.Authorization = `Bearer ${token}`;
    if (payload !== undefined) {
      headers["Content-Type"] = payload.contentType;
      headers["Content-Length"] = String(Buffer.byteLength(payload.text));
    }
    this.stats.requests++;
    return new Promise((resolve) => {
      const req = requestFn(url, { ...this.base, method, agent: this.agent, headers });
      this.active.add(req);
      req.on("close", () => this.active.delete(req));
      // Whether a connection was made: a timeout before it is an unreachable server, not a slow one.
      let connected = false;
      req.on("socket", (socket) => {
        if (!socket.connecting) connected = true;
        else socket.once("connect", () => (connected = true));
      });
      const timer = setTimeout(() => {
        req.destroy(
          connected
            ? Object.assign(new Error("timed out waiting for the response"), { code: "TIMEOUT" })
            : Object.assign(new Error("timed out connecting"), { code: "CONNECT_TIMEOUT" }),
        );
      }, this.options.timeoutMs);
      req.on("response", (res) => {
        clearTimeout(timer);
        this.answered = true;
        const retryAfter = res.headers["retry-after"];
        resolve({
          res,
          outcome: {
            kind: "status",
            status: res.statusCode ?? 0,
            ...(typeof retryAfter === "string" ? { retryAfter } : {}),
          },
        });
      });
      req.on("error", (e) => {
        clearTimeout(timer);
        resolve({
          outcome: { kind: "error", code: this.abortedBecause !== undefined ? DEADLINE : errorCode(e) },
        });
      });
      req.end(payload?.text);
    });
  }

  /**
   * An attempt whose success is consumed by `onOk` (which may itself fail retryably, e.g. a reset
   * while reading a JSON body); any other response body is read as the problem text.
   */
  private async attempt<T>(
    call: Call,
    onOk: (res: IncomingMessage) => Promise<T>,
    detail: { text: string },
  ): Promise<AttemptResult<T>> {
    const { res, outcome } = await this.send(call.method, call.path, call.accept, call.payload);
    if (!res) return { outcome };
    const status = res.statusCode ?? 0;
    if (status >= 200 && status < 300) {
      try {
        return { outcome, value: await onOk(res) };
      } catch (e) {
        res.destroy();
        return {
          outcome: { kind: "error", code: this.abortedBecause !== undefined ? DEADLINE : errorCode(e) },
        };
      }
    }
    detail.text = statusMessage(await this.bodyWithTimeout(res, MAX_ERROR_BODY).catch(() => ""));
    return { outcome };
  }

  private bodyWithTimeout(res: IncomingMessage, cap: number): Promise<string> {
    const timer = setTimeout(() => {
      res.destroy(Object.assign(new Error("timed out reading the response"), { code: "TIMEOUT" }));
    }, this.options.timeoutMs);
    return readBody(res, cap).finally(() => clearTimeout(timer));
  }

  private async run<T>(call: Call, onOk: (res: IncomingMessage) => Promise<T>): Promise<ApiResult<T>> {
    const detail = { text: "" };
    // A write that may have reached the server is never repeated: only a 429 (refused before it
    // was processed) is retried. Reads and server-side dry-runs change nothing, so any retryable
    // failure is retried.
    const once = call.method !== "GET" && call.retryAll !== true;
    const r = await withRetry(() => this.attempt(call, onOk, detail), {
      policy: this.retry,
      limiter: this.limiter,
      clock: this.clock,
      onRetry: () => {
        this.stats.retries++;
      },
      giveUp: (o) =>
        (!this.answered && isUnreachable(o)) || (once && !(o.kind === "status" && o.status === 429)),
    });
    if (r.value !== undefined) return { ok: true, value: r.value };
    this.stats.failures++;
    if (r.outcome.kind === "error" && r.outcome.code === DEADLINE) detail.text = this.abortedBecause ?? "";
    const problem = problemOf(r.outcome, detail.text);
    const tries = r.attempts > 1 ? ` after ${r.attempts} attempts` : "";
    return {
      ok: false,
      ...(r.outcome.kind === "status" ? { status: r.outcome.status } : { code: r.outcome.code }),
      problem: `${call.method} ${call.path}: ${problem}${tries}`,
      message: r.outcome.kind === "status" ? detail.text : "",
    };
  }

  private json(call: Omit<Call, "accept">): Promise<ApiResult<Obj>> {
    return this.run({ ...call, accept: "application/json" }, async (res) => {
      const text = await this.bodyWithTimeout(res, MAX_JSON_BODY);
      const doc = JSON.parse(text) as unknown;
      if (typeof doc !== "object" || doc === null || Array.isArray(doc))
        throw Object.assign(new Error("not a JSON object"), { code: "BAD_JSON" });
      return doc as Obj;
    });
  }

  async getJson(path: string): Promise<ApiResult<Obj>> {
    return this.json({ method: "GET", path });
  }

  async getText(path: string): Promise<ApiResult<string>> {
    return this.run({ method: "GET", path, accept: "text/plain;version=0.0.4, */*" }, (res) =>
      this.bodyWithTimeout(res, 64 * 1024 * 1024),
    );
  }

  /** POST to a collection; the answer is the object as created (or as it would be, in a dry-run). */
  async create(collection: string, body: unknown, o: WriteOptions = {}): Promise<ApiResult<Obj>> {
    return this.write("POST", collection, body, "application/json", o);
  }

  /** PUT: replaces the object (with its resourceVersion, the server refuses a stale one: 409). */
  async replace(path: string, body: unknown, o: WriteOptions = {}): Promise<ApiResult<Obj>> {
    return this.write("PUT", path, body, "application/json", o);
  }

  async patch(path: string, body: unknown, type: PatchType, o: WriteOptions = {}): Promise<ApiResult<Obj>> {
    return this.write("PATCH", path, body, PATCH_CONTENT[type], o);
  }

  /** A write with a JSON body: a dry-run is retried like a read, a real write is not (see run). */
  private write(
    method: "POST" | "PUT" | "PATCH",
    path: string,
    body: unknown,
    contentType: string,
    o: WriteOptions,
  ): Promise<ApiResult<Obj>> {
    return this.json({
      method,
      path: withQuery(path, o),
      payload: { text: JSON.stringify(body), contentType },
      retryAll: o.dryRun === true,
    });
  }

  /** DELETE, with DeleteOptions (e.g. preconditions) when given. */
  async delete(path: string, options?: Obj): Promise<ApiResult<Obj>> {
    return this.json({
      method: "DELETE",
      path,
      ...(options !== undefined
        ? { payload: { text: JSON.stringify(options), contentType: "application/json" } }
        : {}),
    });
  }

  /**
   * Every item of a list, page by page (limit/continue); an expired continue token restarts once.
   * `keep` may cut each item down as its page arrives, so a big list never sits whole in memory.
   */
  async list(
    path: string,
    pageSize = 500,
    keep: (item: Obj) => Obj = (item) => item,
  ): Promise<ApiResult<Obj[]>> {
    const items: Obj[] = [];
    let token = "";
    let restarted = false;
    for (;;) {
      const sep = path.includes("?") ? "&" : "?";
      const page = await this.getJson(
        `${path}${sep}limit=${pageSize}${token !== "" ? `&continue=${encodeURIComponent(token)}` : ""}`,
      );
      if (!page.ok) {
        if (page.status === 410 && !restarted) {
          restarted = true;
          items.length = 0;
          token = "";
          continue;
        }
        return page;
      }
      const pageItems = page.value.items;
      if (Array.isArray(pageItems))
        for (const i of pageItems) if (typeof i === "object" && i !== null) items.push(keep(i as Obj));
      const meta = page.value.metadata as { continue?: unknown } | undefined;
      token = typeof meta?.continue === "string" ? meta.continue : "";
      if (token === "") return { ok: true, value: items };
    }
  }

  /**
   * A response body as a byte stream, for logs. Retries happen only until the headers arrive; a
   * stream that then stalls longer than the timeout is cut with a TIMEOUT error for the reader.
   */
  async stream(path: string): Promise<ApiResult<AsyncIterable<Uint8Array>>> {
    return this.run({ method: "GET", path, accept: "*/*" }, (res) => Promise.resolve(this.watched(res)));
  }

  /** Yields the body's chunks; a gap longer than the timeout destroys the response (TIMEOUT). */
  private async *watched(res: IncomingMessage): AsyncGenerator<Uint8Array> {
    const stall = (): void => {
      res.destroy(Object.assign(new Error("log stream stalled"), { code: "TIMEOUT" }));
    };
    let timer = setTimeout(stall, this.options.timeoutMs);
    try {
      for await (const chunk of res) {
        clearTimeout(timer);
        yield chunk as Buffer;
        timer = setTimeout(stall, this.options.timeoutMs);
      }
    } finally {
      clearTimeout(timer);
      if (!res.complete) res.destroy();
    }
  }
}
