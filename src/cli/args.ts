// Parses argv against the flag table. Unknown flags, bad values and missing arguments are
// UsageErrors (exit 2) with one line that says what to do instead.

import { parseArgs } from "node:util";
import type { ParseArgsConfig } from "node:util";
import { UsageError } from "../errors.js";
import { flagsFor } from "./flags.js";
import { COMMAND_LIST } from "./commands/index.js";

export interface ParsedArgs {
  command: string;
  positionals: string[];
  flags: Record<string, string | boolean | undefined>;
}

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
  const specs = flagsFor(first);
  const options: NonNullable<ParseArgsConfig["options"]> = {};
  for (const f of specs)
    options[f.name] = { type: f.type, ...(f.short !== undefined ? { short: f.short } : {}) };
  let parsed;
  try {
    parsed = parseArgs({ args: rest, options, allowPositionals: true, strict: true });
  } catch (e) {
    const msg = (e as Error).message.replace(/\. To specify a positional argument.*$/s, "");
    throw new UsageError(`${first}: ${msg}`);
  }
  const flags: Record<string, string | boolean | undefined> = {};
  for (const f of specs) {
    const given = (parsed.values as Record<string, string | boolean | undefined>)[f.name];
    const fromEnv = f.env !== undefined ? env[f.env] : undefined;
    const value = given ?? (fromEnv !== undefined && fromEnv !== "" ? fromEnv : f.default);
    if (typeof value === "string" && f.values && !f.values.includes(value)) {
      const origin = given !== undefined ? `--${f.name}` : (f.env ?? "");
      throw new UsageError(`${first}: ${origin} must be one of ${f.values.join(", ")} (got '${value}')`);
    }
    flags[f.name] = value;
  }
  return { command: first, positionals: parsed.positionals, flags };
}
