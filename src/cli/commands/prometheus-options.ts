// --prometheus, --prometheus-token-file, --prometheus-ca-file and --window: checked before any
// collection starts (bad usage fails fast), then turned into the pipeline's Prometheus collector.

import { readInputText } from "../../io/open-input.js";
import { InputError, UsageError } from "../../errors.js";
import { flagText, flagValue } from "../flag-access.js";
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
  const seconds = flagValue(args, "window");
  const url = flagValue(args, "prometheus");
  if (url === undefined || url === "") {
    for (const f of ["prometheus-token-file", "prometheus-ca-file"] as const)
      if (flagValue(args, f) !== undefined) throw new UsageError(`scan: --${f} needs --prometheus URL`);
    return undefined;
  }
  if (!/^https?:\/\/[^/]/.test(url))
    throw new UsageError(`scan: --prometheus must be an http(s) URL (got '${url}')`);
  return seconds;
}

/** The Prometheus collector the flags ask for (its token and CA read), or undefined. */
export async function prometheusSource(args: ParsedArgs): Promise<PrometheusSource | undefined> {
  const windowSeconds = prometheusWindow(args);
  const url = flagValue(args, "prometheus");
  if (windowSeconds === undefined || url === undefined) return undefined;
  const tokenFile = flagValue(args, "prometheus-token-file");
  const caFile = flagValue(args, "prometheus-ca-file");
  return {
    target: {
      url,
      ...(tokenFile !== undefined ? { token: await readSecret(tokenFile, "Prometheus token") } : {}),
      ...(caFile !== undefined ? { ca: await readSecret(caFile, "Prometheus CA bundle") } : {}),
    },
    windowSeconds,
    windowLabel: flagText(args, "window") ?? "",
  };
}
