// Parses argv against the flag table. Unknown flags, bad values and missing arguments are
// UsageErrors (exit 2) with one line that says what to do instead.

import { UsageError } from "../errors.js";
import { COMMAND_LIST } from "./commands/index.js";
import { parseCommandFlags, type ParsedArgs } from "./parse-flags.js";

export type { ParsedArgs } from "./parse-flags.js";

/** Commands the parser accepts: the registry's plus the two built-ins. */
export const COMMANDS: readonly string[] = [...COMMAND_LIST.map((c) => c.name), "version", "help"];

export function parseCommandLine(argv: string[], env: NodeJS.ProcessEnv): ParsedArgs {
  const [first, ...rest] = argv;
  if (first === undefined || first === "-h" || first === "--help")
    return { command: "help", positionals: [], flags: {} };
  if (first === "--version" || first === "-v") return { command: "version", positionals: [], flags: {} };
  if (!COMMANDS.includes(first)) {
    throw new UsageError(
      `unknown command '${first}' (commands: ${COMMANDS.join(", ")}; see 'cnidoctor help')`,
    );
  }
  return parseCommandFlags(first, rest, env);
}
