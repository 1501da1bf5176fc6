// A fleet is N runs of the one pipeline (src/pipeline.ts), at most `concurrency` at once. Each
// cluster has its own client, timeouts and rate limit (built by its target); whatever one cluster
// throws becomes a coverage gap for that cluster only. As each finishes, its snapshot and report
// are reduced to a FleetCluster (summary plus what the output format needs) and dropped.

import type { Report } from "../model/finding.js";
import type { Snapshot } from "../model/snapshot.js";
import { runPipeline, type PipelineInput, type Target } from "../pipeline.js";
import { runPool } from "./pool.js";
import { gapCluster, interruptedCluster, scannedCluster, type Detail, type FleetCluster } from "./report.js";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { gapReasonOf } from "./gap-reason.js";

export interface FleetMember {
  context: string;
  /** The API server URL (a bundle's directory for a fleet of bundles). */
  server: string;
  /** The pipeline target; `signal` aborted means Ctrl-C: cut the cluster's reads now. */
  target?: (signal: AbortSignal) => Target;
  /** Why the member cannot be read at all (its credentials did not load). */
  credentialsError?: string;
}

/** What to keep of a finished cluster's report besides its summary: only the text the output shows. */
export type Keep = (report: Report) => string | undefined;

export interface FleetRun {
  members: readonly FleetMember[];
  concurrency: number;
  /** Everything a pipeline input holds but its target and progress (shared by every cluster). */
  input: Omit<PipelineInput, "target" | "progress">;
  keep: Keep;
  /** A directory to write each cluster's kept text to (one file each); absent: kept in memory. */
  spill?: string;
  progress?: (line: string) => void;
  /** Aborted on Ctrl-C: nothing more starts, running clusters are cut and reported as not finished. */
  interrupt?: AbortSignal;
}

export interface FleetRunResult {
  clusters: FleetCluster[];
  /** Contexts not finished because of the interrupt (also in `clusters`, as "interrupted"). */
  unfinished: string[];
}

export async function runFleet(run: FleetRun): Promise<FleetRunResult> {
  const { members } = run;
  const finished: (FleetCluster | undefined)[] = new Array<FleetCluster | undefined>(members.length).fill(
    undefined,
  );
  const cut = new AbortController();
  const interrupted = new Promise<void>((resolve) => {
    if (run.interrupt === undefined) return;
    if (run.interrupt.aborted) resolve();
    run.interrupt.addEventListener("abort", () => resolve(), { once: true });
  });
  let done = 0;
  const note = (line: string): void => run.progress?.(line);

  const scanOne = async (m: FleetMember, i: number): Promise<void> => {
    let result: FleetCluster;
    if (m.credentialsError !== undefined || m.target === undefined) {
      result = gapCluster(m.context, m.server, "credentials", m.credentialsError ?? "no credentials");
    } else {
      const prefix = `${m.context}: `;
      try {
        const { snapshot, report } = await runPipeline({
          ...run.input,
          target: m.target(cut.signal),
          ...(run.progress !== undefined ? { progress: (line: string) => note(prefix + line) } : {}),
        });
        result = reduce(m, snapshot, report, detailOf(run, i, report));
      } catch (e) {
        const { reason, message } = gapReasonOf(e);
        result = gapCluster(m.context, m.server, reason, message);
      }
    }
    if (cut.signal.aborted) return; // the interrupt already reported this cluster as not finished
    finished[i] = result;
    done++;
    note(
      `clusters: ${done}/${members.length} done (${m.context}: ${result.outcome === "gap" ? `gap, ${result.gap?.reason ?? ""}` : result.outcome})`,
    );
  };

  const pool = runPool(members, run.concurrency, scanOne, { signal: cut.signal });
  // On Ctrl-C the reads still in flight are cut (their targets watch `cut`) and their clusters
  // are reported as not finished, without waiting for them to wind down.
  await Promise.race([pool, interrupted.then(() => cut.abort())]);
  const clusters = members.map((m, i) => finished[i] ?? interruptedCluster(m.context, m.server));
  return {
    clusters,
    unfinished: members.filter((_, i) => finished[i] === undefined).map((m) => m.context),
  };
}

/** The one place a finished cluster's snapshot and report are turned into what the fleet keeps. */
function reduce(
  m: FleetMember,
  snapshot: Snapshot,
  report: Report,
  detail: Detail | undefined,
): FleetCluster {
  return scannedCluster(m.context, m.server, snapshot, report, detail);
}

function detailOf(run: FleetRun, index: number, report: Report): Detail | undefined {
  const text = run.keep(report);
  if (text === undefined) return undefined;
  if (run.spill === undefined) return { text };
  const file = join(run.spill, `${String(index)}.txt`);
  writeFileSync(file, text);
  return { file };
}
