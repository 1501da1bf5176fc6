// The entry of `cnidoctor logs`, kept apart from main.ts like agent-main.ts: main.ts reaches every
// command through the registry (and so loads @kubernetes/client-node and the cluster collectors),
// ~90 MB of RSS that a scan of a 100 GB log does not need. bin.ts sends `logs` here. Same flag
// table, env defaults, value checks, progress line and exit codes as main.ts.

import { parseArgs, type ParseArgsConfig } from "node:util";
import { InputError, UsageError } from "../errors.js";
import { flagsFor } from "./flags.js";
import { logsCommand } from "./commands/logs.js";
import type { ParsedArgs } from "./args.js";

function parse(argv: string[], env: NodeJS.ProcessEnv): ParsedArgs {
  const specs = flagsFor("logs");
  const options: NonNullable<ParseArgsConfig["options"]> = {};
  for (const f of specs)
    options[f.name] = { type: f.type, ...(f.short !== undefined ? { short: f.short } : {}) };
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (e) {
    throw new UsageError(
      `logs: ${(e as Error).message.replace(/\. To specify a positional argument.*$/s, "")}`,
    );
  }
  const flags: Record<string, string | boolean | undefined> = {};
  for (const f of specs) {
    const given = (parsed.values as Record<string, string | boolean | undefined>)[f.name];
    const fromEnv = f.env !== undefined ? env[f.env] : undefined;
    const value = given ?? (fromEnv !== undefined && fromEnv !== "" ? fromEnv : f.default);
    if (typeof value === "string" && f.values && !f.values.includes(value)) {
      const origin = given !== undefined ? `--${f.name}` : (f.env ?? "");
      throw new UsageError(`logs: ${origin} must be one of ${f.values.join(", ")} (got '${value}')`);
    }
    flags[f.name] = value;
  }
  return { command: "logs", positionals: parsed.positionals, flags };
}

function writeOut(stream: NodeJS.WriteStream, text: string): Promise<void> {
  return new Promise((resolve) => {
    if (text === "") resolve();
    else stream.write(text, () => resolve());
  });
}

export async function logsMain(argv: string[]): Promise<number> {
  process.stdout.on("error", (e: NodeJS.ErrnoException) => {
    if (e.code === "EPIPE") process.exit(0);
  });
  try {
    const args = parse(argv, process.env);
    if (args.flags.help === true) {
      const { helpText } = await import("./help.js");
      await writeOut(process.stdout, helpText("logs"));
      return 0;
    }
    const progress = process.stderr.isTTY
      ? (line: string): void => {
          process.stderr.write(`\r${line}\u001b[K`);
        }
      : undefined;
    const result = await logsCommand.run(args, {
      now: new Date(),
      isTTY: process.stdout.isTTY,
      env: process.env,
      ...(progress ? { progress } : {}),
    });
    if (progress) process.stderr.write("\r\u001b[K");
    await writeOut(process.stdout, result.stdout);
    if (result.stderr !== undefined) await writeOut(process.stderr, `${result.stderr}\n`);
    return result.exitCode;
  } catch (e) {
    if (e instanceof UsageError || e instanceof InputError) {
      await writeOut(process.stderr, `cnidoctor: ${e.message}\n`);
      return 2;
    }
    const detail =
      process.env.CNIDOCTOR_DEBUG === "1" && e instanceof Error
        ? `\n${e.stack ?? ""}`
        : " (set CNIDOCTOR_DEBUG=1 for details)";
    await writeOut(
      process.stderr,
      `cnidoctor: internal error: ${e instanceof Error ? e.message : String(e)}${detail}\n`,
    );
    return 1;
  }
}
