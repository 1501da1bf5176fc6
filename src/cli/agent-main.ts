// The entry of `cnidoctor agent`, kept apart from main.ts on purpose: main.ts reaches every command
// through the registry, and so loads the report writers, the YAML parser, the schema validator and
// @kubernetes/client-node — ~100 MB RSS measured, against ~47 MB for what the agent uses. bin.ts
// sends `agent` here with a dynamic import. Same flag table, same env defaults, same exit codes as
// main.ts (2 for usage and input errors, 1 for internal errors, 0 after a clean SIGTERM stop); like
// main.ts it returns the code and never exits.

import { parseArgs, type ParseArgsConfig } from "node:util";
import { InputError, UsageError } from "../errors.js";
import { flagsFor } from "./flags.js";
import { agentCommand } from "./commands/agent.js";
import type { ParsedArgs } from "./args.js";

function parse(argv: string[], env: NodeJS.ProcessEnv): ParsedArgs {
  const specs = flagsFor("agent");
  const options: NonNullable<ParseArgsConfig["options"]> = {};
  for (const f of specs)
    options[f.name] = { type: f.type, ...(f.short !== undefined ? { short: f.short } : {}) };
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (e) {
    throw new UsageError(
      `agent: ${(e as Error).message.replace(/\. To specify a positional argument.*$/s, "")}`,
    );
  }
  const flags: Record<string, string | boolean | undefined> = {};
  for (const f of specs) {
    const given = (parsed.values as Record<string, string | boolean | undefined>)[f.name];
    const fromEnv = f.env !== undefined ? env[f.env] : undefined;
    flags[f.name] = given ?? (fromEnv !== undefined && fromEnv !== "" ? fromEnv : f.default);
  }
  return { command: "agent", positionals: parsed.positionals, flags };
}

export async function agentMain(argv: string[]): Promise<number> {
  try {
    const args = parse(argv, process.env);
    if (args.flags.help === true) {
      // Help needs the registry's text; load it only for this.
      const { helpText } = await import("./help.js");
      process.stdout.write(helpText("agent"));
      return 0;
    }
    const result = await agentCommand.run(args, {
      now: new Date(),
      isTTY: process.stdout.isTTY,
      env: process.env,
    });
    if (result.stderr !== undefined) process.stderr.write(`${result.stderr}\n`);
    return result.exitCode;
  } catch (e) {
    if (e instanceof UsageError || e instanceof InputError) {
      process.stderr.write(`cnidoctor: ${e.message}\n`);
      return 2;
    }
    const detail =
      process.env.CNIDOCTOR_DEBUG === "1" && e instanceof Error
        ? `\n${e.stack ?? ""}`
        : " (set CNIDOCTOR_DEBUG=1 for details)";
    process.stderr.write(
      `cnidoctor: internal error: ${e instanceof Error ? e.message : String(e)}${detail}\n`,
    );
    return 1;
  }
}
