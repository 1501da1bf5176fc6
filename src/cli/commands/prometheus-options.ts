// --prometheus for scan: reads the token and CA files, runs the Prometheus collector and adds its
// series and gaps to a snapshot from any collector (bundle or live), next to any kubelet samples.

import { readInputText } from "../../io/open-input.js";
import { InputError, UsageError } from "../../errors.js";
import { collectPrometheus, parseWindow } from "../../collect/prometheus/collect.js";
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

export async function addPrometheusSeries(
  snapshot: Snapshot,
  args: ParsedArgs,
  rt: Runtime,
  container: string,
): Promise<Snapshot> {
  const windowSeconds = prometheusWindow(args);
  const url = args.flags.prometheus;
  if (windowSeconds === undefined || typeof url !== "string") return snapshot;
  const tokenFile = args.flags["prometheus-token-file"];
  const caFile = args.flags["prometheus-ca-file"];
  const target = {
    url,
    ...(typeof tokenFile === "string" ? { token: await readSecret(tokenFile, "Prometheus token") } : {}),
    ...(typeof caFile === "string" ? { ca: await readSecret(caFile, "Prometheus CA bundle") } : {}),
  };
  rt.progress?.(`querying Prometheus ${url} over ${String(args.flags.window ?? "24h")}`);
  const result = await collectPrometheus({ target, container, windowSeconds, now: rt.now });
  return {
    ...snapshot,
    resources: [...(snapshot.resources ?? []), ...result.series],
    gaps: [...snapshot.gaps, ...result.gaps],
  };
}
