import type { ParsedArgs } from "../parse-flags.js";

export interface CommandResult {
  /** Text, or pieces of it written out in order (a large report is not held whole). */
  stdout: string | Iterable<string>;
  stderr?: string;
  exitCode: number;
}

export interface Runtime {
  now: Date;
  /**
   * When the command started, in performance.now() milliseconds (0: the process's start). The
   * overall --timeout counts from here, so start-up and resolving credentials are inside it.
   * Absent: each live read counts from its own start.
   */
  startedAt?: number;
  isTTY: boolean;
  env: NodeJS.ProcessEnv;
  /** Progress lines for people (stderr on a TTY); commands never write to the terminal themselves. */
  progress?: (line: string) => void;
  /**
   * Lines for stderr that must appear whatever the command ends with (what a start-up cleanup
   * removed): written at once, before the result or the error.
   */
  notice?: (line: string) => void;
  /**
   * Ctrl-C as a signal, for a command that finishes with what it has when interrupted (a fleet
   * scan). Calling it installs the handler; a command that never calls it keeps the default
   * (SIGINT ends the process). A second Ctrl-C ends the process as usual.
   */
  interruptSignal?: () => AbortSignal;
  /** Asks a person on a terminal; absent when nobody can answer (no TTY), so nothing is confirmed. */
  confirm?: (question: string) => Promise<boolean>;
}

/** A CLI command: its help lives with it, so adding one touches one file and the registry. */
export interface Command {
  name: string;
  usage: string;
  summary: string;
  examples: string[];
  run(args: ParsedArgs, rt: Runtime): Promise<CommandResult>;
}
