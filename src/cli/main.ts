// The entry for every command but the lean `logs` and `agent` ones; outcome.ts maps results and errors to exit codes for all three.

import { parseCommandLine } from "./args.js";
import { createInterface } from "node:readline/promises";
import { runCommand } from "./run.js";
import {
  emitResult,
  exitForError,
  interruptOnSigint,
  quietOnClosedPipe,
  terminalProgress,
} from "./outcome.js";

export async function main(argv: string[]): Promise<number> {
  quietOnClosedPipe();
  try {
    const args = parseCommandLine(argv, process.env);
    for (const line of args.deprecations ?? []) process.stderr.write(`cnidoctor: ${line}\n`);
    // Progress goes to stderr, and only when a person watches it there.
    const progress = terminalProgress();
    const result = await runCommand(args, {
      now: new Date(),
      startedAt: 0,
      isTTY: process.stdout.isTTY,
      env: process.env,
      interruptSignal: interruptOnSigint(),
      ...(progress ? { progress } : {}),
      notice: (line: string) => {
        process.stderr.write(`${progress ? "\r\u001b[K" : ""}cnidoctor: ${line}\n`);
      },
      ...(process.stdin.isTTY && process.stderr.isTTY ? { confirm: askOnTerminal } : {}),
    });
    return await emitResult(result, progress !== undefined);
  } catch (e) {
    return exitForError(e, process.env);
  }
}

/** A yes/no question on the terminal (stderr), for apply and rollback without --yes. */
async function askOnTerminal(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question(question)).trim());
  } finally {
    rl.close();
  }
}
