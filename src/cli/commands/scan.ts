import { UsageError } from "../../errors.js";
import { runPipeline, type Target } from "../../pipeline.js";
import type { ParsedArgs } from "../parse-flags.js";
import { flagValue } from "../flag-access.js";
import { choices } from "../flags.js";
import { liveTarget, refuseLiveFlagsWithBundle } from "./live-options.js";
import { prometheusSource, prometheusWindow } from "./prometheus-options.js";
import { advisoriesFor, pipelineBasics, renderReport } from "./shared.js";
import type { Command, CommandResult, Runtime } from "./types.js";
import { rancherVersionFor, tablesFor } from "./kdm-options.js";
import { bundleFleet, fleetSelector, refuseFleetFlagsForOneCluster } from "./fleet-options.js";

async function scan(args: ParsedArgs, rt: Runtime): Promise<CommandResult> {
  const bundle = flagValue(args, "bundle");
  if (args.positionals.length > 0)
    throw new UsageError(`scan: unexpected argument '${args.positionals[0] ?? ""}'`);
  prometheusWindow(args);
  const select = fleetSelector(args);
  if (select !== undefined) return (await import("./fleet-scan.js")).scanFleet(args, rt, { select });
  refuseLiveFlagsWithBundle(args, "scan");
  const bundles = bundle !== undefined ? await bundleFleet(bundle) : undefined;
  if (bundles !== undefined) return (await import("./fleet-scan.js")).scanFleet(args, rt, { bundles });
  refuseFleetFlagsForOneCluster(args);
  const target: Target = bundle !== undefined ? { kind: "bundle", dir: bundle } : liveTarget(args, rt);
  const advisories = await advisoriesFor(args);
  // The version tables and --rancher are read before the cluster, so a bad --kdm fails fast.
  const tables = await tablesFor(args);
  const rancher = rancherVersionFor(args, undefined);
  const prometheus = await prometheusSource(args);
  const { report } = await runPipeline({
    target,
    advisories,
    versions: { tables, ...(rancher !== undefined ? { rancher } : {}) },
    ...(prometheus !== undefined ? { prometheus } : {}),
    ...pipelineBasics(rt),
  });
  return renderReport(report, args, rt);
}

export const scanCommand: Command = {
  name: "scan",
  usage: `cnidoctor scan [--kubeconfig FILE] [--context NAME | --all-contexts | --contexts A,B | --context-pattern GLOB [--clusters-concurrency N]] [--nodes SELECTOR] [--since 1h] | --bundle DIR  [--prometheus URL [--window 24h]] [--rancher V] [--kdm FILE|URL] [-o ${choices("output", "scan")}]`,
  summary:
    "Diagnose the current cluster (or a cluster-info dump bundle): per node affected / at-risk / not-affected / unknown, with evidence.",
  examples: [
    "cnidoctor scan",
    "cnidoctor scan --context prod --nodes node-role.kubernetes.io/worker=true -o json > report.json",
    "cnidoctor scan --bundle ./dump",
    "cnidoctor scan --bundle ./dump --prometheus http://127.0.0.1:9090 --window 24h -o html > report.html",
    "cnidoctor scan --all-contexts -o html > fleet.html   # every cluster of the kubeconfig, one report",
    "cnidoctor scan --bundle ./fleet                      # a directory of bundles (collect --all-contexts)",
  ],
  run: scan,
};
