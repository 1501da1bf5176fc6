// --prometheus for scan: reads the token and CA files, runs the Prometheus collector and adds its
// series and gaps to a snapshot from any collector (bundle or live), next to any kubelet samples.

import { readInputText } from "../../io/open-input.js";
import { InputError, UsageError } from "../../errors.js";
import { collectPrometheus } from "../../collect/prometheus/collect.js";
import { flagText, flagValue } from "../flag-access.js";
import type { Snapshot } from "../../model/snapshot.js";
import type { ParsedArgs } from "../parse-flags.js";
import type { Runtime } from "./types.js";

async function readSecret(path: string, what: string): Promise<string> {
  try {
    return (await readInputText(path, "token")).trim();
  } catch (e) {
    if (e instanceof InputError) throw e;
    throw new InputError(path, `cannot read the ${what}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
}

/** Validates the Prometheus flags before any collection starts (bad usage fails fast). */
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

export async function addPrometheusSeries(
  snapshot: Snapshot,
  args: ParsedArgs,
  rt: Runtime,
  container: string,
): Promise<Snapshot> {
  const windowSeconds = prometheusWindow(args);
  const url = flagValue(args, "prometheus");
  if (windowSeconds === undefined || url === undefined) return snapshot;
  const tokenFile = flagValue(args, "prometheus-token-file");
  const caFile = flagValue(args, "prometheus-ca-file");
  const target = {
    url,
    ...(tokenFile !== undefined ? { token: await readSecret(tokenFile, "Prometheus token") } : {}),
    ...(caFile !== undefined ? { ca: await readSecret(caFile, "Prometheus CA bundle") } : {}),
  };
  rt.progress?.(`querying Prometheus ${url} over ${flagText(args, "window") ?? ""}`);
  const result = await collectPrometheus({ target, container, windowSeconds, now: rt.now });
  return {
    ...snapshot,
    resources: [...(snapshot.resources ?? []), ...result.series],
    gaps: [...snapshot.gaps, ...result.gaps],
  };
}
