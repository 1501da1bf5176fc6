// --prometheus, --prometheus-token-file, --prometheus-ca-file and --window: checked before any
// collection starts (bad usage fails fast), then turned into the pipeline's Prometheus collector.

import { readInputText } from "../../io/open-input.js";
import { InputError, UsageError } from "../../errors.js";
import { parseWindow } from "../../collect/prometheus/collect.js";
import type { PrometheusSource } from "../../pipeline.js";
import type { ParsedArgs } from "../parse-flags.js";

async function readSecret(path: string, what: string): Promise<string> {
  try {
    return (await readInputText(path, "token")).trim();
  } catch (e) {
    if (e instanceof InputError) throw e;
    throw new InputError(path, `cannot read the ${what}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
}

/** Validates the Prometheus flags; the window in seconds, or undefined without --prometheus. */
export function prometheusWindow(args: ParsedArgs): number | undefined {
  const url = args.flags.prometheus;
  const window = typeof args.flags.window === "string" ? args.flags.window : "24h";
  const seconds = parseWindow(window);
  if (seconds === undefined)
    throw new UsageError(
      `scan: --window must be a duration of at least 1m like 6h, 24h or 7d (got '${window}')`,
    );
  if (typeof url !== "string" || url === "") {
    for (const f of ["prometheus-token-file", "prometheus-ca-file"])
      if (typeof args.flags[f] === "string") throw new UsageError(`scan: --${f} needs --prometheus URL`);
    return undefined;
  }
  if (!/^https?:\/\/[^/]/.test(url))
    throw new UsageError(`scan: --prometheus must be an http(s) URL (got '${url}')`);
  return seconds;
}

/** The Prometheus collector the flags ask for (its token and CA read), or undefined. */
export async function prometheusSource(args: ParsedArgs): Promise<PrometheusSource | undefined> {
  const windowSeconds = prometheusWindow(args);
  const url = args.flags.prometheus;
  if (windowSeconds === undefined || typeof url !== "string") return undefined;
  const tokenFile = args.flags["prometheus-token-file"];
  const caFile = args.flags["prometheus-ca-file"];
  return {
    target: {
      url,
      ...(typeof tokenFile === "string" ? { token: await readSecret(tokenFile, "Prometheus token") } : {}),
      ...(typeof caFile === "string" ? { ca: await readSecret(caFile, "Prometheus CA bundle") } : {}),
    },
    windowSeconds,
    windowLabel: String(args.flags.window ?? "24h"),
  };
}
