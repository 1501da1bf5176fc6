// How the deployed agent is started, read back from agent-bin.js's shebang so that the integration
// tests and `npm run bench:agent` measure exactly what the DaemonSet runs.

import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

export const AGENT_BIN = fileURLToPath(new URL("./agent-bin.js", import.meta.url));

/** The Node flags on agent-bin.js's `#!/usr/bin/env -S node ...` line. */
export function agentNodeFlags(): string[] {
  const first = readFileSync(AGENT_BIN, "utf8").split("\n", 1)[0] ?? "";
  const m = /^#!\/usr\/bin\/env -S node((?: --[\w-]+(?:=\S+)?)*)$/.exec(first);
  if (!m) throw new Error(`${AGENT_BIN}: unexpected first line '${first}'`);
  return (m[1] ?? "").trim().split(" ").filter(Boolean);
}

/** process.execPath's argv for running the agent as deployed: flags, script, then agent flags. */
export function agentArgv(agentFlags: string[]): string[] {
  return [...agentNodeFlags(), AGENT_BIN, ...agentFlags];
}
