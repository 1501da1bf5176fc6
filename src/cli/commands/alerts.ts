import { UsageError } from "../../errors.js";
import { ALERT_FORMATS, alertRulesDocuments, type AlertFormat } from "../../remediate/alerts.js";
import type { ParsedArgs } from "../parse-flags.js";
import { flagValue } from "../flag-access.js";
import { choices } from "../flags.js";
import { chosenAdvisories } from "./remediate-shared.js";
import type { Command, CommandResult } from "./types.js";

async function run(args: ParsedArgs): Promise<CommandResult> {
  if (args.positionals.length > 0)
    throw new UsageError(`alerts: unexpected argument '${args.positionals[0] ?? ""}'`);
  const format: AlertFormat = flagValue(args, "format");
  if (!ALERT_FORMATS.includes(format))
    throw new UsageError(`alerts: --format must be one of ${ALERT_FORMATS.join(", ")}`);
  return { stdout: alertRulesDocuments(await chosenAdvisories(args), format), exitCode: 0 };
}

export const alertsCommand: Command = {
  name: "alerts",
  usage: `cnidoctor alerts [--advisory ID] [--format ${choices("format", "alerts")}]`,
  summary:
    "Prometheus alert rules for each loaded advisory (or --advisory's): signature rate, the CPU of its container against its peers, memory slope.",
  examples: [
    "cnidoctor alerts > cnidoctor-rules.yaml",
    "cnidoctor alerts --format prometheusrule | kubectl apply -f -",
  ],
  run: (args) => run(args),
};
