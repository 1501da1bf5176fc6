#!/usr/bin/env node
// `agent` (the long-running node agent), `logs` (multi-GB log scans) and `scan` (thousands of
// nodes) have lean entries that do not load every command.
const argv = process.argv.slice(2);
const command = argv[0];
process.exitCode =
  command === "agent"
    ? await (await import("./agent-main.js")).agentMain(argv.slice(1))
    : command === "logs" || command === "scan"
      ? await (await import("./lean-main.js")).leanMain(command, argv.slice(1))
      : await (await import("./main.js")).main(argv);
