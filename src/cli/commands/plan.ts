import { stringify } from "yaml";
import { UsageError } from "../../errors.js";
import { selectSteps } from "../../apply/executor.js";
import type { ParsedArgs } from "../parse-flags.js";
import { choices } from "../flags.js";
import { textOutputFormat } from "./shared.js";
import { renderPlanMarkdown, renderPlanText } from "../../report/plan.js";
import { gatherFacts, makePlan, unreadLine, unreadParts } from "./remediate-shared.js";
import type { Command, CommandResult, Runtime } from "./types.js";

async function plan(args: ParsedArgs, rt: Runtime): Promise<CommandResult> {
  if (args.positionals.length > 0)
    throw new UsageError(`plan: unexpected argument '${args.positionals[0] ?? ""}'`);
  // Checked before anything is read: a format plan cannot write is bad usage, not a text plan.
  const fmt = textOutputFormat(args);
  const facts = await gatherFacts(args, rt);
  const p = await makePlan(args, rt, facts);
  const unread = unreadParts(facts, rt.now);
  // A partial read may hide steps: the plan is shown, but the exit code says it could not be evaluated.
  const ending =
    unread.length > 0
      ? { stderr: unreadLine("plan", unread, "so steps may be missing"), exitCode: 4 }
      : { exitCode: 0 };
  if (fmt === "json") return { stdout: `${JSON.stringify(p, null, 2)}\n`, ...ending };
  if (fmt === "yaml") return { stdout: stringify(p, { lineWidth: 0 }), ...ending };
  const selected = new Set(selectSteps(p, undefined).map((s) => s.id));
  if (fmt === "markdown") return { stdout: renderPlanMarkdown(p, selected), ...ending };
  return { stdout: renderPlanText(p, selected), ...ending };
}

export const planCommand: Command = {
  name: "plan",
  usage: `cnidoctor plan [--rke-config FILE] [--bundle DIR | --kubeconfig FILE --context NAME] [-o ${choices("output", "plan")}]`,
  summary: "Show the remediation steps for CNID-2024-0001, each with its diff. Read-only.",
  examples: [
    "cnidoctor plan --rke-config cluster.yml",
    "cnidoctor plan --context prod -o json > plan.json",
    "cnidoctor plan --bundle ./dump --rke-config ./dump/cluster.yml",
  ],
  run: plan,
};
