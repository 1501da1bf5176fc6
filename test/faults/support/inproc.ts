// Runs a CLI command inside the test process (the same code path as bin.ts -> main.ts, minus the
// process): argument parsing, the command, and the exit-code mapping of outcome.ts.

import { parseCommandLine } from "../../../src/cli/args.js";
import { runCommand } from "../../../src/cli/run.js";
import { InputError, UsageError } from "../../../src/errors.js";

export interface InprocRun {
  code: number;
  stdout: string;
  stderr: string;
}

export async function cnidoctorInProcess(argv: string[], now = new Date()): Promise<InprocRun> {
  const env: NodeJS.ProcessEnv = { ...process.env, KUBECONFIG: "" };
  // Notices (the start-up cleanup) come first on stderr, as main.ts writes them at once.
  const notices: string[] = [];
  const notice = (line: string): void => {
    notices.push(`cnidoctor: ${line}\n`);
  };
  try {
    const r = await runCommand(parseCommandLine(argv, env), { now, isTTY: false, env, notice });
    const stdout = typeof r.stdout === "string" ? r.stdout : [...r.stdout].join("");
    return { code: r.exitCode, stdout, stderr: notices.join("") + (r.stderr ?? "") };
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    return {
      code: e instanceof UsageError || e instanceof InputError ? 2 : 1,
      stdout: "",
      stderr: notices.join("") + message,
    };
  }
}
