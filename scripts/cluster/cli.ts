// `npm run cluster:up -- --scenario NAME --nodes N [--name NAME]` and `npm run cluster:down [-- --name NAME]`.
// Step timings go to stdout; the last stdout line of `up` is `KUBECONFIG=<path>` so scripts can
// `eval "$(npm run -s cluster:up -- ... | tail -1)"`. Bad input: one line on stderr, exit 2.
import { parseArgs } from "node:util";
import { startCluster, stopCluster, UsageError } from "./cluster.js";
import { mainWith, unknownCommand } from "./cli-main.js";
import { scenarioNames } from "./scenarios.js";

const USAGE = `usage: cli.js up --scenario <${scenarioNames().join("|")}> --nodes <N> [--name <name>]
       cli.js down [--name <name>]`;

function parseNodes(text: string | undefined): number {
  if (text === undefined) throw new UsageError("--nodes is required");
  if (!/^\d+$/.test(text)) throw new UsageError(`--nodes must be a positive integer, got "${text}"`);
  return Number(text);
}

async function run(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  let parsed;
  try {
    parsed = parseArgs({
      args: rest,
      options: {
        scenario: { type: "string" },
        nodes: { type: "string" },
        name: { type: "string" },
        help: { type: "boolean" },
      },
      strict: true,
    });
  } catch (err: unknown) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
  const { values } = parsed;
  const log = (line: string): void => console.log(`[cluster] ${line}`);
  if (values.help === true) {
    console.log(USAGE);
    return;
  }
  if (command === "up") {
    if (values.scenario === undefined) throw new UsageError("--scenario is required");
    const info = await startCluster({
      scenario: values.scenario,
      nodes: parseNodes(values.nodes),
      name: values.name,
      log,
    });
    log(
      `scenario ${info.scenario}: ${info.nodes} nodes, apiserver https://127.0.0.1:${info.apiserverPort}, state ${info.stateDir}`,
    );
    console.log(`KUBECONFIG=${info.kubeconfig}`);
    return;
  }
  if (command === "down") {
    await stopCluster({ name: values.name, log });
    return;
  }
  throw unknownCommand(command);
}

mainWith("cluster", run);
