// What the harness's command-line entry points share: an unknown command is bad usage, and a
// failure ends as one line on stderr (plus the failing component's log tail), exit 2 for bad usage
// and 1 otherwise, never a stack trace.
import { UsageError } from "./cluster.js";
import { ComponentError, tailLog } from "./processes.js";

export function unknownCommand(command: string | undefined): UsageError {
  return new UsageError(
    command === undefined
      ? "missing command (up or down)"
      : `unknown command "${command}" (expected up or down)`,
  );
}

/** Runs `run` on the process arguments; `tag` prefixes every error line. */
export function mainWith(tag: string, run: (argv: string[]) => Promise<void>): void {
  run(process.argv.slice(2)).catch((err: unknown) => {
    if (err instanceof UsageError) {
      console.error(`${tag}: ${err.message}`);
      process.exitCode = 2;
      return;
    }
    if (err instanceof ComponentError) {
      console.error(`${tag}: ${err.component}: ${err.message}`);
      console.error(`--- last lines of ${err.logFile} ---\n${tailLog(err.logFile)}`);
      process.exitCode = 1;
      return;
    }
    console.error(`${tag}: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  });
}
