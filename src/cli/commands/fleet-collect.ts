// `collect` over a fleet: one bundle per context into DIR/<context>/, each written by the one bundle
// writer (its atomic write, its --force rule, its cleanup of a killed earlier run), at most
// --clusters-concurrency at once. `scan --bundle DIR` reads the directory back as the same fleet.

import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { writeBundle } from "../../collect/live/write-bundle.js";
import { cleanupLines } from "../../io/leftovers.js";
import type { ContextSelector } from "../../kube/merge.js";
import { runPool } from "../../fleet/pool.js";
import { gapReasonOf } from "../../fleet/gap-reason.js";
import { CONTAINER, collectScope, nodeProgress, type CollectScope } from "../../pipeline.js";
import { loadAdvisories } from "../../advisories/load.js";
import { flagValue } from "../flag-access.js";
import type { FleetEndpoint } from "../kube-loader.js";
import type { ParsedArgs } from "../parse-flags.js";
import { clientFor, liveSettings, resolveFleetOutOfProcess, type LiveSettings } from "./live-options.js";
import type { CommandResult, Runtime } from "./types.js";

/**
 * A context name as a directory name: characters outside [A-Za-z0-9._-] become "_", a leading dot
 * too (hidden names are the bundle writer's own temporary directories); names that come out the
 * same get -2, -3… in context order.
 */
export function bundleDirNames(contexts: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  const used = new Set<string>();
  for (const c of contexts) {
    const base = c.replace(/[^A-Za-z0-9._-]/g, "_").replace(/^\./, "_") || "_";
    let name = base;
    for (let n = 2; used.has(name); n++) name = `${base}-${n}`;
    used.add(name);
    out.set(c, name);
  }
  return out;
}

interface Outcome {
  written: boolean;
  line: string;
  problems: string[];
}

/** What every cluster of one fleet collect shares. */
interface Shared {
  args: ParsedArgs;
  rt: Runtime;
  s: LiveSettings;
  signal: AbortSignal;
  /** What the loaded advisories read beyond calico-node's logs. */
  scope: CollectScope;
}

async function collectOne(
  e: FleetEndpoint,
  dir: string,
  { args, rt, s, signal, scope }: Shared,
): Promise<Outcome> {
  if (e.endpoint === undefined) {
    const why = e.error ?? "no credentials";
    return { written: false, line: `${e.context}: not collected (credentials): ${why}`, problems: [] };
  }
  const { client, disarm } = clientFor(e.endpoint, s, performance.now());
  const cut = (): void => client.abort("interrupted (Ctrl-C)");
  signal.addEventListener("abort", cut, { once: true });
  try {
    const progress = nodeProgress(
      rt.progress !== undefined ? (line: string) => rt.progress?.(`${e.context}: ${line}`) : undefined,
      `${CONTAINER} logs`,
    );
    const r = await writeBundle(client, dir, {
      container: CONTAINER,
      logContainers: scope.others,
      needs: scope.needs,
      bounds: s.bounds,
      concurrency: s.concurrency,
      force: flagValue(args, "force"),
      now: rt.now,
      ...(s.nodeSelector !== undefined ? { nodeSelector: s.nodeSelector } : {}),
      ...(progress ? { progress } : {}),
      onCleanup: (c) => {
        for (const line of cleanupLines(c)) rt.notice?.(line);
      },
    });
    return {
      written: true,
      line: `${e.context}: wrote ${r.dir}: ${r.nodes} nodes, ${r.pods} calico-node pods, ${r.logBytes} log bytes`,
      problems: r.gaps.map(
        (g) =>
          `cnidoctor: ${e.context}: not collected (${g.check}${g.subject !== undefined ? ` ${g.subject}` : ""}): ${g.reason}`,
      ),
    };
  } catch (err) {
    if (signal.aborted)
      return { written: false, line: `${e.context}: not finished (interrupted)`, problems: [] };
    const { reason, message } = gapReasonOf(err);
    return { written: false, line: `${e.context}: not collected (${reason}): ${message}`, problems: [] };
  } finally {
    signal.removeEventListener("abort", cut);
    disarm();
    client.close();
  }
}

export async function collectFleet(
  args: ParsedArgs,
  rt: Runtime,
  out: string,
  select: ContextSelector,
): Promise<CommandResult> {
  const s = liveSettings(args);
  const kubeconfig = flagValue(args, "kubeconfig");
  const credentialsMs = s.timeoutMs + 15_000;
  const endpoints = await resolveFleetOutOfProcess(
    { ...(kubeconfig !== undefined ? { kubeconfig } : {}), select, timeoutMs: credentialsMs },
    rt.env,
    credentialsMs + 5_000,
  );
  await mkdir(out, { recursive: true });
  const names = bundleDirNames(endpoints.map((e) => e.context));
  const scope = collectScope(await loadAdvisories());
  const interrupt = rt.interruptSignal?.();
  const stop = new AbortController();
  interrupt?.addEventListener("abort", () => stop.abort(), { once: true });
  const results = await runPool(
    endpoints,
    flagValue(args, "clusters-concurrency"),
    (e) =>
      collectOne(e, join(out, names.get(e.context) ?? e.context), {
        args,
        rt,
        s,
        signal: stop.signal,
        scope,
      }),
    { signal: stop.signal },
  );
  // A cut collect removes its half-written bundle before its task ends, so the pool is awaited
  // whole: nothing is left behind but finished bundles.
  const outcomes = results.map((r, i): Outcome => {
    const context = endpoints[i]?.context ?? "";
    if (r === undefined)
      return { written: false, line: `${context}: not started (interrupted)`, problems: [] };
    if (r.status === "fulfilled") return r.value;
    return {
      written: false,
      line: `${context}: not collected (error): ${gapReasonOf(r.reason).message}`,
      problems: [],
    };
  });
  const lines = outcomes.map((o) => o.line);
  const problems = outcomes.flatMap((o) => o.problems);
  const failed = outcomes.filter((o) => !o.written).length;
  return {
    stdout: `${lines.join("\n")}\n`,
    ...(problems.length > 0 ? { stderr: problems.join("\n") } : {}),
    exitCode: failed > 0 || problems.length > 0 ? 4 : 0,
  };
}
