import { UsageError } from "../../errors.js";
import { compileSignatures } from "../../logs/index.js";
import { collectBundle } from "../../collect/bundle/collect-bundle.js";
import { collectLive } from "../../collect/live/collect-live.js";
import type { ParsedArgs } from "../args.js";
import { connect, liveSettings, progressReporter } from "./live-options.js";
import { addPrometheusSeries, prometheusWindow } from "./prometheus-options.js";
import { advisoriesFor, reportFor } from "./shared.js";
import type { Command, CommandResult, Runtime } from "./types.js";

const CONTAINER = "calico-node";

async function scanLive(args: ParsedArgs, rt: Runtime): Promise<CommandResult> {
  const settings = liveSettings(args);
  const advisories = await advisoriesFor(args);
  const { client, context } = await connect(args, rt, settings);
  try {
    const progress = progressReporter(rt, "calico-node logs");
    const snapshot = await collectLive(client, {
      container: CONTAINER,
      signatures: compileSignatures(advisories),
      now: rt.now,
      targetName: context,
      bounds: settings.bounds,
      concurrency: settings.concurrency,
      sampleSeconds: settings.sampleSeconds,
      ...(settings.nodeSelector !== undefined ? { nodeSelector: settings.nodeSelector } : {}),
      ...(progress ? { progress } : {}),
    });
    return reportFor(await addPrometheusSeries(snapshot, args, rt, CONTAINER), advisories, args, rt);
  } finally {
    client.close();
  }
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
