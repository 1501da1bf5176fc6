// Typed errors. Library code throws these; only cli/main.ts turns them into exit codes and one line.

/** The user asked for something that does not make sense (bad flag, unknown command). Exit 2. */
export class UsageError extends Error {
  override readonly name = "UsageError";
}

/** An input could not be read or parsed. `where` names the file (and position) so the line is actionable. Exit 2. */
export class InputError extends Error {
  override readonly name = "InputError";
  constructor(
    readonly where: string,
    readonly problem: string,
  ) {
    super(`${where}: ${problem}`);
  }
}
