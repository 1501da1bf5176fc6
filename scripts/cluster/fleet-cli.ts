// `npm run fleet:up -- --clusters "name:scenario:nodes,..." [--name NAME] [--concurrency N]` and
// `npm run fleet:down [-- --name NAME]`. Like cluster:up, step timings go to stdout and the last
// stdout line of `up` is `KUBECONFIG=<path>` (the merged, Rancher-style kubeconfig). Bad input: one
// line on stderr, exit 2.
import { parseArgs } from "node:util";
import { UsageError } from "./cluster.js";
import { parseFleetSpec, startFleet, stopFleet } from "./fleet.js";
import { mainWith, unknownCommand } from "./cli-main.js";
import { scenarioNames } from "./scenarios.js";

const USAGE = `usage: fleet-cli.js up --clusters <name:scenario:nodes,...> [--name <fleet>] [--concurrency <N>]
       fleet-cli.js down [--name <fleet>]
scenarios: ${scenarioNames().join(", ")}`;

async function run(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  let values;
  try {
    ({ values } = parseArgs({
      args: rest,
      options: {
        clusters: { type: "string" },
        name: { type: "string" },
        concurrency: { type: "string" },
        help: { type: "boolean" },
      },
      strict: true,
    }));
  } catch (err: unknown) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
  const log = (line: string): void => console.log(`[fleet] ${line}`);
  if (values.help === true) {
    console.log(USAGE);
    return;
  }
  if (command === "up") {
    if (values.clusters === undefined) throw new UsageError("--clusters is required");
    const members = parseFleetSpec(values.clusters);
    let concurrency: number | undefined;
    if (values.concurrency !== undefined) {
      if (!/^[1-9]\d*$/.test(values.concurrency))
        throw new UsageError(`--concurrency must be a positive integer, got "${values.concurrency}"`);
      concurrency = Number(values.concurrency);
    }
    const started = Date.now();
    const info = await startFleet({ members, name: values.name, concurrency, log });
    for (const c of info.clusters)
      log(`context ${c.name}: ${c.scenario}, ${c.nodes} nodes, https://127.0.0.1:${c.apiserverPort}`);
    log(`context ${info.refusedContext}: refused credentials against ${info.refusedTarget}'s apiserver`);
    log(`fleet up in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    console.log(`KUBECONFIG=${info.kubeconfig}`);
    return;
  }
  if (command === "down") {
    await stopFleet({ name: values.name, log });
    return;
  }
  throw unknownCommand(command);
}

mainWith("fleet", run);
