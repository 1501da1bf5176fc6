import { UsageError } from "../../errors.js";
import { compileSignatures } from "../../logs/index.js";
import { collectBundle } from "../../collect/bundle/collect-bundle.js";
import type { ParsedArgs } from "../args.js";
import { advisoriesFor, reportFor } from "./shared.js";
import type { Command, CommandResult, Runtime } from "./types.js";

async function scan(args: ParsedArgs, rt: Runtime): Promise<CommandResult> {
  const bundle = args.flags.bundle;
  if (args.positionals.length > 0)
    throw new UsageError(`scan: unexpected argument '${args.positionals[0] ?? ""}'`);
  if (typeof bundle !== "string") {
    throw new UsageError(
      "scan: give --bundle DIR (a `kubectl cluster-info dump --all-namespaces --output-directory DIR`); scanning a live cluster directly is not part of this release",
    );
  }
  const advisories = await advisoriesFor(args);
  const snapshot = await collectBundle(bundle, {
    container: "calico-node",
    signatures: compileSignatures(advisories),
    now: rt.now,
  });
  return reportFor(snapshot, advisories, args, rt);
}

export const scanCommand: Command = {
  name: "scan",
  usage: "cnidoctor scan --bundle DIR [-o table|json|yaml|markdown]",
  summary:
    "Diagnose a cluster from a cluster-info dump bundle: per node affected / at-risk / not-affected / unknown, with evidence.",
  examples: ["cnidoctor scan --bundle ./dump", "cnidoctor scan --bundle ./dump -o json > report.json"],
  run: scan,
};
