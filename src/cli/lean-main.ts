// The entry of `cnidoctor logs` and `cnidoctor scan`, kept apart from main.ts like agent-main.ts:
// main.ts reaches every command through the registry and so loads every command's modules (~62 MB
// RSS on import, against ~43 MB for this entry), memory that neither a scan of a 100 GB log nor a
// scan of 5,000 nodes needs (the kubeconfig is resolved in a child process). bin.ts sends these
// two commands here. Same flag table, env defaults, value checks, progress line and exit codes as
// main.ts.

import {
  emitResult,
  exitForError,
  interruptOnSigint,
  quietOnClosedPipe,
  terminalProgress,
  writeOut,
} from "./outcome.js";
import { parseCommandFlags } from "./parse-flags.js";
import type { Command } from "./commands/types.js";

export type LeanCommand = "logs" | "scan";

async function load(name: LeanCommand): Promise<Command> {
  return name === "logs"
    ? (await import("./commands/logs.js")).logsCommand
    : (await import("./commands/scan.js")).scanCommand;
}

export async function leanMain(name: LeanCommand, argv: string[]): Promise<number> {
  quietOnClosedPipe();
  try {
    const args = parseCommandFlags(name, argv, process.env);
    for (const line of args.deprecations ?? []) process.stderr.write(`cnidoctor: ${line}\n`);
    if (args.flags.help === true) {
      const { helpText } = await import("./help.js");
      await writeOut(process.stdout, helpText(name));
      return 0;
    }
    const progress = terminalProgress();
    const command = await load(name);
    const result = await command.run(args, {
      now: new Date(),
      startedAt: 0,
      isTTY: process.stdout.isTTY,
      env: process.env,
      interruptSignal: interruptOnSigint(),
      ...(progress ? { progress } : {}),
    });
    return await emitResult(result, progress !== undefined);
  } catch (e) {
    return exitForError(e, process.env);
  }
}
