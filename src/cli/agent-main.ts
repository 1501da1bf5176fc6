// The entry of `cnidoctor agent`, kept apart from main.ts on purpose: main.ts reaches every command
// through the registry, and so loads the report writers, the YAML parser and the schema validator
// — ~62 MB RSS on import measured, against ~51 MB for this entry. bin.ts
// sends `agent` here with a dynamic import. Same flag table, same env defaults, same exit codes as
// main.ts (2 for usage and input errors, 1 for internal errors, 0 after a clean SIGTERM stop); like
// main.ts it returns the code and never exits.

import { agentCommand } from "./commands/agent.js";
import { exitForError } from "./outcome.js";
import { parseCommandFlags } from "./parse-flags.js";

export async function agentMain(argv: string[]): Promise<number> {
  try {
    const args = parseCommandFlags("agent", argv, process.env);
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
    return exitForError(e, process.env);
  }
}
