// A small Prometheus HTTP API client: range queries only, with an optional bearer token and CA
// bundle. Every failure is a PrometheusError with one line that says what went wrong; callers turn
// it into a Gap.

import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import type { IncomingMessage } from "node:http";

export interface PrometheusTarget {
  /** Base URL, e.g. http://prometheus.monitoring:9090 or https://host/prometheus. */
  url: string;
  /** Bearer token (read from a file by the CLI, never taken from the command line). */
  token?: string;
  /** PEM CA bundle to trust for https. */
  ca?: string;
  timeoutMs?: number;
}

export class PrometheusError extends Error {
  override readonly name = "PrometheusError";
}

export interface MatrixSeries {
  metric: Record<string, string>;
  /** [unix seconds, value as text] */
  values: [number, string][];
}

interface ApiResponse {
  status?: unknown;
  error?: unknown;
  data?: { resultType?: unknown; result?: unknown };
}

function get(target: PrometheusTarget, url: URL): Promise<{ status: number; body: string }> {
  const headers: Record<string, string> = { accept: "application/json" };
  if (target.token !== undefined) headers.authorization = `Bearer ${target.token}`;
  const timeout = target.timeoutMs ?? 30_000;
  return new Promise((resolve, reject) => {
    const onResponse = (res: IncomingMessage): void => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () =>
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }),
      );
      res.on("error", reject);
    };
    const req =
      url.protocol === "https:"
        ? httpsRequest(
            url,
            { headers, timeout, ...(target.ca !== undefined ? { ca: target.ca } : {}) },
            onResponse,
          )
        : httpRequest(url, { headers, timeout }, onResponse);
    req.on("timeout", () => req.destroy(new Error(`no answer within ${timeout} ms`)));
    req.on("error", reject);
    req.end();
  });
}

function isMatrix(v: unknown): v is MatrixSeries[] {
  return (
    Array.isArray(v) &&
    v.every(
      (s: unknown) =>
        typeof s === "object" &&
        s !== null &&
        typeof (s as { metric?: unknown }).metric === "object" &&
        Array.isArray((s as { values?: unknown }).values),
    )
  );
}

/** GET /api/v1/query_range; resolves with the matrix, rejects with a PrometheusError. */
export async function queryRange(
  target: PrometheusTarget,
  query: string,
  range: { start: number; end: number; stepSeconds: number },
): Promise<MatrixSeries[]> {
  let url: URL;
  try {
    url = new URL(`${target.url.replace(/\/+$/, "")}/api/v1/query_range`);
  } catch {
    throw new PrometheusError(`${target.url} is not a URL`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:")
    throw new PrometheusError(`${target.url}: only http and https are supported`);
  url.searchParams.set("query", query);
  url.searchParams.set("start", String(range.start));
  url.searchParams.set("end", String(range.end));
  url.searchParams.set("step", String(range.stepSeconds));
  let res: { status: number; body: string };
  try {
    res = await get(target, url);
  } catch (e) {
    throw new PrometheusError(`${target.url}: ${e instanceof Error ? e.message : String(e)}`);
  }
  let parsed: ApiResponse;
  try {
    parsed = JSON.parse(res.body) as ApiResponse;
  } catch {
    const hint = res.status === 401 || res.status === 403 ? " (check --prometheus-token-file)" : "";
    throw new PrometheusError(`${target.url}: HTTP ${res.status}, not a Prometheus API answer${hint}`);
  }
  if (res.status !== 200 || parsed.status !== "success") {
    const why = typeof parsed.error === "string" ? parsed.error : `HTTP ${res.status}`;
    throw new PrometheusError(`${target.url}: query failed: ${why}`);
  }
  if (parsed.data?.resultType !== "matrix" || !isMatrix(parsed.data.result))
    throw new PrometheusError(`${target.url}: expected a matrix result`);
  return parsed.data.result;
}
