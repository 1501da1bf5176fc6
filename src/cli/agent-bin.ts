#!/usr/bin/env -S node --jitless --max-semi-space-size=1 --no-node-snapshot
// `cnidoctor-agent`, the DaemonSet's entry point: `cnidoctor agent` with the Node flags that keep
// the long-running process under its 50 MB budget. --jitless alone saves ~5 MB RSS (no JIT code
// space; the agent's per-line work is light enough for the interpreter: docs/agent.md has the CPU
// figures). Node 20's V8 prints one "disabling flag --expose_wasm" warning at start for it; Node 22
// and later do not, and Node 24 rejects the --no-expose-wasm that would silence it. A shebang rather
// than NODE_OPTIONS so that `cnidoctor` itself keeps the JIT. --no-node-snapshot bootstraps Node
// from its JS rather than its embedded start-up snapshot: ~3.5 MB less RSS on Node 20, 24 and 26
// (fewer of the binary's pages touched) for a slower start, which a daemon pays once
// (docs/packaging.md has the figures). Tests and the benchmark start the
// agent with the flags read back from this line (agentNodeFlags in agent-launch.ts).
import { agentMain } from "./agent-main.js";

process.exitCode = await agentMain(process.argv.slice(2));
