// Runs the built CLI as a user would, with a hard deadline so a hang fails the test with what the
// command printed instead of stalling the suite.
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

const BIN = fileURLToPath(new URL("../../../src/cli/bin.js", import.meta.url));

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
  /** The deadline passed and the command was killed. */
  killed: boolean;
}

export interface RunOptions {
  /** Called once the command started (to act on the cluster while it runs). */
  during?: () => void;
  /** Another build's bin.js (a before/after comparison). */
  bin?: string;
}

export function runCli(args: string[], hardMs: number, opts: RunOptions = {}): Promise<Run> {
  const t0 = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [opts.bin ?? BIN, ...args], {
      env: { ...process.env, KUBECONFIG: "", NO_COLOR: "1" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    let killed = false;
    const timer = setTimeout(() => {
      killed = true;
      child.kill("SIGKILL");
    }, hardMs);
    opts.during?.();
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ms: Date.now() - t0, killed });
    });
  });
}
