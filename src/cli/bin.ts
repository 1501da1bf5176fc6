#!/usr/bin/env node
// `agent` (the long-running node agent) and `logs` (multi-GB log scans) have lean entries that do
// not load every command.
const argv = process.argv.slice(2);
process.exitCode =
  argv[0] === "agent"
    ? await (await import("./agent-main.js")).agentMain(argv.slice(1))
    : argv[0] === "logs"
      ? await (await import("./logs-main.js")).logsMain(argv.slice(1))
      : await (await import("./main.js")).main(argv);
