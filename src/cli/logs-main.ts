// The entry of `cnidoctor logs`, kept apart from main.ts like agent-main.ts: main.ts reaches every
// command through the registry (and so loads @kubernetes/client-node and the cluster collectors),
// ~90 MB of RSS that a scan of a 100 GB log does not need. bin.ts sends `logs` here. Same flag
// table, env defaults, value checks, progress line and exit codes as main.ts.

import { logsCommand } from "./commands/logs.js";
import { exitForError, quietOnClosedPipe, terminalProgress, writeOut } from "./outcome.js";
import { parseCommandFlags } from "./parse-flags.js";

export async function logsMain(argv: string[]): Promise<number> {
  quietOnClosedPipe();
  try {
    const args = parseCommandFlags("logs", argv, process.env);
    if (args.flags.help === true) {
      const { helpText } = await import("./help.js");
      await writeOut(process.stdout, helpText("logs"));
      return 0;
    }
    const progress = terminalProgress();
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
    return exitForError(e, process.env);
  }
}
