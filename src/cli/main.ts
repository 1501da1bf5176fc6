// The one place that turns results and typed errors into output and exit codes.

import { InputError, UsageError } from "../errors.js";
import { parseCommandLine } from "./args.js";
import { createInterface } from "node:readline/promises";
import { runCommand } from "./run.js";

function writeOut(stream: NodeJS.WriteStream, text: string): Promise<void> {
  return new Promise((resolve) => {
    if (text === "") {
      resolve();
      return;
    }
    stream.write(text, () => resolve());
  });
}

export async function main(argv: string[]): Promise<number> {
  // A closed pipe (`cnidoctor … | head`) is not an error worth a stack trace.
  process.stdout.on("error", (e: NodeJS.ErrnoException) => {
    if (e.code === "EPIPE") process.exit(0);
  });
  try {
    const args = parseCommandLine(argv, process.env);
    // Progress goes to stderr, and only when a person watches it there.
    const progress = process.stderr.isTTY
      ? (line: string): void => {
          process.stderr.write(`\r${line}\u001b[K`);
        }
      : undefined;
    const result = await runCommand(args, {
      now: new Date(),
      isTTY: process.stdout.isTTY,
      env: process.env,
      ...(progress ? { progress } : {}),
      ...(process.stdin.isTTY && process.stderr.isTTY ? { confirm: askOnTerminal } : {}),
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

/** A yes/no question on the terminal (stderr), for apply and rollback without --yes. */
async function askOnTerminal(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question(question)).trim());
  } finally {
    rl.close();
  }
}
