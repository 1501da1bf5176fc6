// `scan` over a fleet: the clusters a fleet selector picks from the merged kubeconfig, or the
// bundle directories of a --bundle DIR, each scanned by the one pipeline with its own client and
// bounds, into one fleet report (src/fleet/). Loaded only when there is a fleet.

import { rmSync } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { UsageError } from "../../errors.js";
import type { ContextSelector } from "../../kube/merge.js";
import type { Target } from "../../pipeline.js";
import { runFleet, type FleetMember, type Keep } from "../../fleet/run.js";
import { fleetReport } from "../../fleet/report.js";
import { keepFor, renderFleet } from "../../fleet/render.js";
import { flagValue } from "../flag-access.js";
import type { ParsedArgs } from "../parse-flags.js";
import { clientFor, liveSettings, resolveFleetOutOfProcess, type LiveSettings } from "./live-options.js";
import { advisoriesFor, outputFormat, pipelineBasics, useColor } from "./shared.js";
import { rancherVersionFor, tablesFor } from "./kdm-options.js";
import type { CommandResult, Runtime } from "./types.js";
import type { FleetEndpoint } from "../kube-loader.js";

/** The credentials of every context are resolved in one child, each within this long. */
function credentialsMs(s: LiveSettings): number {
  return s.timeoutMs + 15_000;
}

/** A live member: its own client (timeouts, rate limit, overall --timeout from its own start). */
function liveMember(e: FleetEndpoint, s: LiveSettings): FleetMember {
  const { endpoint } = e;
  if (endpoint === undefined)
    return { context: e.context, server: e.server, credentialsError: e.error ?? "no credentials" };
  return {
    context: e.context,
    server: e.server !== "" ? e.server : endpoint.server,
    target: (signal): Target => ({
      kind: "live",
      open: () => {
        const { client, disarm } = clientFor(endpoint, s, performance.now());
        const cut = (): void => client.abort("interrupted (Ctrl-C)");
        signal.addEventListener("abort", cut, { once: true });
        return Promise.resolve({
          client,
          context: e.context,
          close: () => {
            signal.removeEventListener("abort", cut);
            disarm();
            client.close();
          },
        });
      },
      read: {
        bounds: s.bounds,
        concurrency: s.concurrency,
        sampleSeconds: s.sampleSeconds,
        ...(s.nodeSelector !== undefined ? { nodeSelector: s.nodeSelector } : {}),
      },
    }),
  };
}

export async function liveFleetMembers(
  args: ParsedArgs,
  rt: Runtime,
  select: ContextSelector,
  s: LiveSettings,
): Promise<FleetMember[]> {
  const kubeconfig = flagValue(args, "kubeconfig");
  const ms = credentialsMs(s);
  const endpoints = await resolveFleetOutOfProcess(
    { ...(kubeconfig !== undefined ? { kubeconfig } : {}), select, timeoutMs: ms },
    rt.env,
    ms + 5_000,
  );
  return endpoints.map((e) => liveMember(e, s));
}

export function bundleMembers(fleet: readonly { name: string; dir: string }[]): FleetMember[] {
  return fleet.map((b) => ({
    context: b.name,
    server: b.dir,
    target: (): Target => ({ kind: "bundle", dir: b.dir }),
  }));
}

/** The output's pieces, then the spill directory removed (also when the writing stops early). */
function* removedAfter(out: string | Iterable<string>, dir: string): Generator<string> {
  try {
    if (typeof out === "string") yield out;
    else yield* out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function scanFleet(
  args: ParsedArgs,
  rt: Runtime,
  fleet: { select: ContextSelector } | { bundles: { name: string; dir: string }[] },
): Promise<CommandResult> {
  if (flagValue(args, "prometheus") !== undefined)
    throw new UsageError(
      "scan: --prometheus names one cluster's Prometheus; a fleet is scanned without it (scan each cluster with its own --prometheus)",
    );
  // Ctrl-C from here on ends with a report (while credentials load: every cluster not finished).
  const interrupt = rt.interruptSignal?.();
  const format = outputFormat(args);
  const concurrency = flagValue(args, "clusters-concurrency");
  const advisories = await advisoriesFor(args);
  const tables = await tablesFor(args);
  const rancher = rancherVersionFor(args, undefined);
  const members =
    "select" in fleet
      ? await liveFleetMembers(args, rt, fleet.select, liveSettings(args))
      : bundleMembers(fleet.bundles);
  const basics = pipelineBasics(rt);
  const keep: Keep = keepFor(format);
  // Each finished cluster's report is written out here rather than held: memory stays what the
  // clusters being read need, however many there are. Removed once the output is written.
  const spill = format !== "table" ? await mkdtemp(join(tmpdir(), "cnidoctor-fleet-")) : undefined;
  const result = await runFleet({
    ...(spill !== undefined ? { spill } : {}),
    members,
    concurrency,
    input: {
      advisories,
      versions: { tables, ...(rancher !== undefined ? { rancher } : {}) },
      tool: basics.tool,
      now: basics.now,
    },
    keep,
    ...(basics.progress !== undefined ? { progress: basics.progress } : {}),
    ...(interrupt !== undefined ? { interrupt } : {}),
  });
  const report = fleetReport(result.clusters, basics.tool, basics.now);
  const rendered = renderFleet(report, format, { color: useColor(args, rt) });
  return {
    stdout: spill !== undefined ? removedAfter(rendered, spill) : rendered,
    ...(result.unfinished.length > 0
      ? {
          stderr: `cnidoctor: interrupted: not finished (${result.unfinished.length}): ${result.unfinished.join(", ")}`,
        }
      : {}),
    exitCode: report.summary.worstExitCode,
  };
}
