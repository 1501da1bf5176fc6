import { UsageError } from "../../errors.js";
import { recoverInterrupted, writeBundle } from "../../collect/live/write-bundle.js";
import { cleanupLines } from "../../io/leftovers.js";
import { cleanUp } from "./cleanup.js";
import type { ParsedArgs } from "../parse-flags.js";
import { flagValue } from "../flag-access.js";
import { connect, liveSettings } from "./live-options.js";
import { fleetSelector, refuseFleetFlagsForOneCluster } from "./fleet-options.js";
import { CONTAINER, collectScope, nodeProgress } from "../../pipeline.js";
import { loadAdvisories } from "../../advisories/load.js";
import type { Command, CommandResult, Runtime } from "./types.js";

async function collect(args: ParsedArgs, rt: Runtime): Promise<CommandResult> {
  if (args.positionals.length > 0)
    throw new UsageError(`collect: unexpected argument '${args.positionals[0] ?? ""}'`);
  const out = flagValue(args, "output-dir");
  if (out === undefined || out === "") throw new UsageError("collect: give --output-dir DIR");
  const select = fleetSelector(args);
  if (select !== undefined) return (await import("./fleet-collect.js")).collectFleet(args, rt, out, select);
  refuseFleetFlagsForOneCluster(args);
  // A killed earlier collect into the same directory is finished first (before the cluster is
  // read, so the cleanup is said even when reading it fails).
  await cleanUp(rt, () => recoverInterrupted(out));
  const settings = liveSettings(args);
  // Past the overall --timeout every read is cut; what was not read is listed as not collected.
  const { client, disarm } = await connect(args, rt, settings);
  try {
    const progress = nodeProgress(rt.progress, `${CONTAINER} logs`);
    const scope = collectScope(await loadAdvisories());
    const r = await writeBundle(client, out, {
      container: CONTAINER,
      logContainers: scope.others,
      bounds: settings.bounds,
      concurrency: settings.concurrency,
      force: flagValue(args, "force"),
      now: rt.now,
      needs: scope.needs,
      ...(settings.nodeSelector !== undefined ? { nodeSelector: settings.nodeSelector } : {}),
      ...(progress ? { progress } : {}),
      onCleanup: (c) => {
        for (const line of cleanupLines(c)) rt.notice?.(line);
      },
    });
    const summary = `wrote ${r.dir}: ${r.nodes} nodes, ${r.pods} calico-node pods, ${r.logBytes} log bytes\n`;
    if (r.gaps.length === 0) return { stdout: summary, exitCode: 0 };
    // Something could not be collected: the bundle is still written, and says so when scanned.
    return {
      stdout: summary,
      stderr: r.gaps
        .map(
          (g) =>
            `cnidoctor: not collected (${g.check}${g.subject !== undefined ? ` ${g.subject}` : ""}): ${g.reason}`,
        )
        .join("\n"),
      exitCode: 4,
    };
  } finally {
    disarm();
    client.close();
  }
}

export const collectCommand: Command = {
  name: "collect",
  usage:
    "cnidoctor collect --output-dir DIR [--force] [--kubeconfig FILE] [--context NAME | --all-contexts | --contexts A,B | --context-pattern GLOB [--clusters-concurrency N]] [--nodes SELECTOR] [--since 1h]",
  summary:
    "Write a bundle of the current cluster (cluster-info dump layout plus the Calico extras, logs bounded) for `scan --bundle` elsewhere.",
  examples: [
    "cnidoctor collect --output-dir ./dump",
    "cnidoctor scan --bundle ./dump",
    "cnidoctor collect --all-contexts --output-dir ./fleet   # one bundle per context: ./fleet/<context>/",
    "cnidoctor scan --bundle ./fleet -o html > fleet.html",
  ],
  run: collect,
};
