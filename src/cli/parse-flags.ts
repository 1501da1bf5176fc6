// Parses one command's flags against the flag table. Light on purpose (flags and errors only), so
// the lean entries for `logs` and `agent` can use it without loading every command.

import { parseArgs, type ParseArgsConfig } from "node:util";
import { UsageError } from "../errors.js";
import { flagsFor } from "./flags.js";

export interface ParsedArgs {
  command: string;
  positionals: string[];
  flags: Record<string, string | boolean | undefined>;
  /** The flags given on the command line (not taken from the environment or a default). */
  given?: ReadonlySet<string>;
}

export function parseCommandFlags(command: string, argv: string[], env: NodeJS.ProcessEnv): ParsedArgs {
  const specs = flagsFor(command);
  const options: NonNullable<ParseArgsConfig["options"]> = {};
  for (const f of specs)
    options[f.name] = { type: f.type, ...(f.short !== undefined ? { short: f.short } : {}) };
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (e) {
    throw new UsageError(
      `${command}: ${(e as Error).message.replace(/\. To specify a positional argument.*$/s, "")}`,
    );
  }
  const flags: Record<string, string | boolean | undefined> = {};
  const named = new Set<string>();
  for (const f of specs) {
    const given = (parsed.values as Record<string, string | boolean | undefined>)[f.name];
    if (given !== undefined) named.add(f.name);
    const fromEnv = f.env !== undefined ? env[f.env] : undefined;
    const value = given ?? (fromEnv !== undefined && fromEnv !== "" ? fromEnv : f.default);
    if (typeof value === "string" && f.values && !f.values.includes(value)) {
      const origin = given !== undefined ? `--${f.name}` : (f.env ?? "");
      throw new UsageError(`${command}: ${origin} must be one of ${f.values.join(", ")} (got '${value}')`);
    }
    flags[f.name] = value;
  }
  return { command, positionals: parsed.positionals, flags, given: named };
}
