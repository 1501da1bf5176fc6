// The one mapping from what a command run ended with to output and an exit code, shared by every
// entry point (main.ts and the lean logs/agent entries). bin.ts sets the exit code; the one exit here
// is quietOnClosedPipe's, when the reader of stdout has gone.

import type { CommandResult } from "./commands/types.js";
import { kernelLoadProblem } from "../logs/kernel.js";
import { InputError, UsageError } from "../errors.js";

export async function writeOut(stream: NodeJS.WriteStream, text: string | Iterable<string>): Promise<void> {
  let last = "";
  if (typeof text === "string") {
    last = text;
  } else {
    // Pieces are gathered into writes of ~64 KiB, waiting for the stream to drain between them.
    for (const piece of text) {
      last += piece;
      if (last.length >= WRITE_CHUNK) {
        if (!stream.write(last)) await new Promise((resolve) => stream.once("drain", resolve));
        last = "";
      }
    }
  }
  await new Promise<void>((resolve) => {
    if (last === "") resolve();
    else stream.write(last, () => resolve());
  });
}

const WRITE_CHUNK = 64 * 1024;

/** Writes a command's result (clearing a progress line first) and returns its exit code. */
export async function emitResult(result: CommandResult, clearProgress: boolean): Promise<number> {
  if (clearProgress) process.stderr.write("\r\u001b[K");
  await writeOut(process.stdout, result.stdout);
  if (result.stderr !== undefined) await writeOut(process.stderr, `${result.stderr}\n`);
  const kernel = kernelLoadProblem();
  if (kernel !== undefined)
    await writeOut(
      process.stderr,
      `cnidoctor: note: the WebAssembly line kernel did not load (${kernel}); logs were read on the slower JavaScript path, with the same results\n`,
    );
  return result.exitCode;
}

/** Typed errors are the user's (exit 2, one line); anything else is ours (exit 1, no stack unless asked). */
export async function exitForError(e: unknown, env: NodeJS.ProcessEnv): Promise<number> {
  if (e instanceof UsageError || e instanceof InputError) {
    await writeOut(process.stderr, `cnidoctor: ${e.message}\n`);
    return 2;
  }
  const detail =
    env.CNIDOCTOR_DEBUG === "1" && e instanceof Error
      ? `\n${e.stack ?? ""}`
      : " (set CNIDOCTOR_DEBUG=1 for details)";
  await writeOut(
    process.stderr,
    `cnidoctor: internal error: ${e instanceof Error ? e.message : String(e)}${detail}\n`,
  );
  return 1;
}

/** A closed pipe (`cnidoctor … | head`) is not an error worth a stack trace. */
export function quietOnClosedPipe(): void {
  process.stdout.on("error", (e: NodeJS.ErrnoException) => {
    if (e.code === "EPIPE") process.exit(0);
  });
}

/** Progress for people: a rewritten stderr line, only when stderr is a terminal. */
export function terminalProgress(): ((line: string) => void) | undefined {
  if (!process.stderr.isTTY) return undefined;
  return (line: string): void => {
    process.stderr.write(`\r${line}\u001b[K`);
  };
}

/**
 * Runtime.interruptSignal for the entry points: the first SIGINT aborts the signal (the command
 * then ends with what it finished), the handler is then removed so a second one ends the process.
 */
export function interruptOnSigint(): () => AbortSignal {
  let controller: AbortController | undefined;
  return () => {
    if (controller !== undefined) return controller.signal;
    const c = new AbortController();
    controller = c;
    process.once("SIGINT", () => {
      c.abort();
    });
    return c.signal;
  };
}
