import { stringify } from "yaml";
import { UsageError } from "../../errors.js";
import { selectSteps } from "../../apply/executor.js";
import type { ParsedArgs } from "../parse-flags.js";
import { choices } from "../flags.js";
import { textOutputFormat } from "./shared.js";
import type { Plan } from "../../model/plan.js";
import { renderPlanMarkdown, renderPlanText } from "../../report/plan.js";
import { gatherFacts, makePlan, unreadLine, unreadParts } from "./remediate-shared.js";
import type { Command, CommandResult, Runtime } from "./types.js";
import { flagValue } from "../flag-access.js";
import { bundleFleet, fleetSelector, refuseFleetFlagsForOneCluster } from "./fleet-options.js";

async function plan(args: ParsedArgs, rt: Runtime): Promise<CommandResult> {
  if (args.positionals.length > 0)
    throw new UsageError(`plan: unexpected argument '${args.positionals[0] ?? ""}'`);
  // Checked before anything is read: a format plan cannot write is bad usage, not a text plan.
  const fmt = textOutputFormat(args);
  const select = fleetSelector(args);
  if (select !== undefined) return (await import("./fleet-plan.js")).planFleet(args, rt, { select });
  const dir = flagValue(args, "bundle");
  const bundles = dir !== undefined ? await bundleFleet(dir) : undefined;
  if (bundles !== undefined) return (await import("./fleet-plan.js")).planFleet(args, rt, { bundles });
  refuseFleetFlagsForOneCluster(args);
  const all = await gatherFacts(args, rt);
  const plans: Plan[] = [];
  for (const facts of all) plans.push(await makePlan(args, rt, facts));
  // Every advisory planned for read the same cluster: its gaps are the same for each.
  const [first] = all;
  const unread = first !== undefined ? unreadParts(first, rt.now) : [];
  // A partial read may hide steps: the plan is shown, but the exit code says it could not be evaluated.
  const ending =
    unread.length > 0
      ? { stderr: unreadLine("plan", unread, "so steps may be missing"), exitCode: 4 }
      : { exitCode: 0 };
  // One advisory: its plan object, as before there could be several; several: a list of plans.
  const data: Plan | Plan[] = plans.length === 1 && plans[0] !== undefined ? plans[0] : plans;
  if (fmt === "json") return { stdout: `${JSON.stringify(data, null, 2)}\n`, ...ending };
  if (fmt === "yaml") return { stdout: stringify(data, { lineWidth: 0 }), ...ending };
  const render = fmt === "markdown" ? renderPlanMarkdown : renderPlanText;
  const texts = plans.map((p) => render(p, new Set(selectSteps(p, undefined).map((s) => s.id))));
  return { stdout: texts.join("\n"), ...ending };
}

export const planCommand: Command = {
  name: "plan",
  usage: `cnidoctor plan [--advisory ID] [--rke-config FILE] [--bundle DIR | --kubeconfig FILE --context NAME | --all-contexts | --contexts A,B | --context-pattern GLOB] [-o ${choices("output", "plan")}]`,
  summary:
    "Show the remediation steps, each with its diff, for --advisory or every advisory that found something (with several, -o json/yaml is a list of plans). Read-only.",
  examples: [
    "cnidoctor plan --rke-config cluster.yml",
    "cnidoctor plan --context prod -o json > plan.json",
    "cnidoctor plan --bundle ./dump --rke-config ./dump/cluster.yml",
    "cnidoctor plan --context-pattern 'prod-*'   # per-cluster plans grouped by the change they need",
  ],
  run: plan,
};
