import { UsageError } from "../../errors.js";
import { compileSignatures } from "../../logs/index.js";
import { collectBundle } from "../../collect/bundle/collect-bundle.js";
import type { ParsedArgs } from "../args.js";
import { readLiveSnapshot } from "./live-options.js";
import { addPrometheusSeries, prometheusWindow } from "./prometheus-options.js";
import { advisoriesFor, reportFor } from "./shared.js";
import type { Command, CommandResult, Runtime } from "./types.js";

const CONTAINER = "calico-node";

async function scanLive(args: ParsedArgs, rt: Runtime): Promise<CommandResult> {
  const advisories = await advisoriesFor(args);
  const snapshot = await readLiveSnapshot(args, rt, {
    container: CONTAINER,
    signatures: compileSignatures(advisories),
  });
  return reportFor(await addPrometheusSeries(snapshot, args, rt, CONTAINER), advisories, args, rt);
}

async function scan(args: ParsedArgs, rt: Runtime): Promise<CommandResult> {
  const bundle = args.flags.bundle;
  if (args.positionals.length > 0)
    throw new UsageError(`scan: unexpected argument '${args.positionals[0] ?? ""}'`);
  prometheusWindow(args);
  if (typeof bundle !== "string") return scanLive(args, rt);
  const advisories = await advisoriesFor(args);
  const snapshot = await collectBundle(bundle, {
    container: CONTAINER,
    signatures: compileSignatures(advisories),
    now: rt.now,
  });
  return reportFor(await addPrometheusSeries(snapshot, args, rt, CONTAINER), advisories, args, rt);
}

export const scanCommand: Command = {
  name: "scan",
  usage:
    "cnidoctor scan [--kubeconfig FILE] [--context NAME] [--nodes SELECTOR] [--since 1h] | --bundle DIR  [--prometheus URL [--window 24h]] [-o table|json|yaml|markdown|html]",
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
