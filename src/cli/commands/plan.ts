import { stringify } from "yaml";
import { UsageError } from "../../errors.js";
import { selectSteps } from "../../apply/executor.js";
import type { ParsedArgs } from "../args.js";
import { gatherFacts, makePlan, renderPlan } from "./remediate-shared.js";
import type { Command, CommandResult, Runtime } from "./types.js";

async function plan(args: ParsedArgs, rt: Runtime): Promise<CommandResult> {
  if (args.positionals.length > 0)
    throw new UsageError(`plan: unexpected argument '${args.positionals[0] ?? ""}'`);
  const p = await makePlan(args, rt, await gatherFacts(args, rt));
  const fmt = args.flags.output;
  if (fmt === "json") return { stdout: `${JSON.stringify(p, null, 2)}\n`, exitCode: 0 };
  if (fmt === "yaml") return { stdout: stringify(p, { lineWidth: 0 }), exitCode: 0 };
  return { stdout: renderPlan(p, new Set(selectSteps(p, undefined).map((s) => s.id))), exitCode: 0 };
}

export const planCommand: Command = {
  name: "plan",
  usage:
    "cnidoctor plan [--rke-config FILE] [--bundle DIR | --kubeconfig FILE --context NAME] [-o table|json|yaml]",
  summary: "Show the remediation steps for CNID-2024-0001, each with its diff. Read-only.",
  examples: [
    "cnidoctor plan --rke-config cluster.yml",
    "cnidoctor plan --context prod -o json > plan.json",
    "cnidoctor plan --bundle ./dump --rke-config ./dump/cluster.yml",
  ],
  run: plan,
};
