#!/usr/bin/env node
// `agent` (the long-running node agent) has a lean entry that does not load every command.
const argv = process.argv.slice(2);
process.exitCode =
  argv[0] === "agent"
    ? await (await import("./agent-main.js")).agentMain(argv.slice(1))
    : await (await import("./main.js")).main(argv);
