import { UsageError } from "../../errors.js";
import { compileSignatures } from "../../logs/index.js";
import { collectBundle } from "../../collect/bundle/collect-bundle.js";
import type { ParsedArgs } from "../parse-flags.js";
import { flagValue } from "../flag-access.js";
import { choices } from "../flags.js";
import { readLiveSnapshot, refuseLiveFlagsWithBundle } from "./live-options.js";
import { addPrometheusSeries, prometheusWindow } from "./prometheus-options.js";
import { advisoriesFor, reportFor } from "./shared.js";
import type { Command, CommandResult, Runtime } from "./types.js";
import type { Advisory } from "../../model/advisory.js";
import type { Platform } from "../../model/finding.js";
import type { Snapshot } from "../../model/snapshot.js";
import type { VersionTables } from "../../versions/tables.js";
import { platformSection } from "../../analyze/platform.js";
import { rancherVersionFor, tablesFor } from "./kdm-options.js";

const CONTAINER = "calico-node";

/**
 * The platform section, when there is something to judge it by: the cluster's Rancher, --rancher
 * or --kdm. The version tables are read before the cluster, so a bad --kdm fails fast.
 */
function platformFor(
  args: ParsedArgs,
  snapshot: Snapshot,
  advisories: Advisory[],
  tables: VersionTables,
): Platform | undefined {
  const rancherVersion = rancherVersionFor(args, snapshot);
  if (tables.kdmOrigin === undefined && rancherVersion === undefined && snapshot.rancher === undefined)
    return undefined;
  return platformSection(snapshot, advisories, tables, rancherVersion);
}

async function finish(
  snapshot: Snapshot,
  advisories: Advisory[],
  tables: VersionTables,
  args: ParsedArgs,
  rt: Runtime,
): Promise<CommandResult> {
  const withSeries = await addPrometheusSeries(snapshot, args, rt, CONTAINER);
  return reportFor(withSeries, advisories, args, rt, platformFor(args, withSeries, advisories, tables));
}

async function scanLive(args: ParsedArgs, rt: Runtime): Promise<CommandResult> {
  const advisories = await advisoriesFor(args);
  const tables = await tablesFor(args);
  const snapshot = await readLiveSnapshot(args, rt, {
    container: CONTAINER,
    signatures: compileSignatures(advisories),
  });
  return finish(snapshot, advisories, tables, args, rt);
}

async function scan(args: ParsedArgs, rt: Runtime): Promise<CommandResult> {
  const bundle = flagValue(args, "bundle");
  if (args.positionals.length > 0)
    throw new UsageError(`scan: unexpected argument '${args.positionals[0] ?? ""}'`);
  prometheusWindow(args);
  refuseLiveFlagsWithBundle(args, "scan");
  if (bundle === undefined) return scanLive(args, rt);
  const advisories = await advisoriesFor(args);
  const tables = await tablesFor(args);
  const snapshot = await collectBundle(bundle, {
    container: CONTAINER,
    signatures: compileSignatures(advisories),
    now: rt.now,
  });
  return finish(snapshot, advisories, tables, args, rt);
}

export const scanCommand: Command = {
  name: "scan",
  usage: `cnidoctor scan [--kubeconfig FILE] [--context NAME] [--nodes SELECTOR] [--since 1h] | --bundle DIR  [--prometheus URL [--window 24h]] [--rancher V] [--kdm FILE|URL] [-o ${choices("output", "scan")}]`,
  summary:
    "Diagnose the current cluster (or a cluster-info dump bundle): per node affected / at-risk / not-affected / unknown, with evidence.",
  examples: [
    "cnidoctor scan",
    "cnidoctor scan --context prod --nodes node-role.kubernetes.io/worker=true -o json > report.json",
    "cnidoctor scan --bundle ./dump",
    "cnidoctor scan --bundle ./dump --prometheus http://127.0.0.1:9090 --window 24h -o html > report.html",
  ],
  run: scan,
};
