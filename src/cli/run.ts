// Dispatches a parsed command line to its command.

import type { ParsedArgs } from "./parse-flags.js";
import { findCommand } from "./commands/index.js";
import type { CommandResult, Runtime } from "./commands/types.js";
import { helpText } from "./help.js";
import { toolVersion } from "./version.js";

export async function runCommand(args: ParsedArgs, rt: Runtime): Promise<CommandResult> {
  if (args.flags.help === true) return { stdout: helpText(args.command), exitCode: 0 };
  if (args.command === "version") return { stdout: `cnidoctor ${toolVersion()}\n`, exitCode: 0 };
  const cmd = findCommand(args.command);
  if (!cmd) return { stdout: helpText(args.positionals[0]), exitCode: 0 };
  return cmd.run(args, rt);
}
