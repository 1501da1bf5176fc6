// How far the test cluster scales on this machine: for each node count, bring up a fresh cluster,
// report the time until every node is Ready (and the whole `up`), and the peak RSS (VmHWM) of
// kube-apiserver, etcd and kwok.
//   npm run bench:cluster -- --nodes 100,1000,5000 [--scenario nodes-only|rke1-canal-affected]
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { MAX_NODES, startCluster, stopCluster, UsageError } from "../cluster/cluster.js";
import { ComponentError, tailLog } from "../cluster/processes.js";

const NAME = "bench";

function parseCounts(text: string | undefined): number[] {
  if (text === undefined) throw new UsageError("--nodes is required, e.g. --nodes 100,1000,5000");
  return text.split(",").map((part) => {
    if (!/^\d+$/.test(part.trim()))
      throw new UsageError(`--nodes must be a comma-separated list of integers, got "${text}"`);
    const n = Number(part.trim());
    if (n < 1 || n > MAX_NODES) throw new UsageError(`node counts must be from 1 to ${MAX_NODES}, got ${n}`);
    return n;
  });
}

/** Peak resident set size in MiB from /proc/<pid>/status, or NaN when the process is gone. */
function peakRssMiB(pid: number | undefined): number {
  if (pid === undefined) return Number.NaN;
  try {
    const match = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return match?.[1] === undefined ? Number.NaN : Number(match[1]) / 1024;
  } catch {
    return Number.NaN;
  }
}

interface Result {
  nodes: number;
  readySeconds: number;
  upSeconds: number;
  rss: Record<string, number>;
}

async function measure(scenario: string, nodes: number): Promise<Result> {
  await stopCluster({ name: NAME });
  const steps = new Map<string, number>();
  const started = process.hrtime.bigint();
  const info = await startCluster({
    scenario,
    nodes,
    name: NAME,
    log: (line) => {
      console.log(`  ${line}`);
      const m = /^(.*?)\s+([\d.]+) s$/.exec(line);
      if (m?.[1] !== undefined && m[2] !== undefined) steps.set(m[1].trim(), Number(m[2]));
    },
  });
  const upSeconds = Number(process.hrtime.bigint() - started) / 1e9;
  // Time to all-Ready counts from the first Node create to the last Node Ready.
  const readySeconds = (steps.get(`create ${nodes} nodes`) ?? 0) + (steps.get(`${nodes} nodes Ready`) ?? 0);
  const rss = {
    "kube-apiserver": peakRssMiB(info.pids["kube-apiserver"]),
    etcd: peakRssMiB(info.pids["etcd"]),
    kwok: peakRssMiB(info.pids["kwok"]),
  };
  await stopCluster({ name: NAME });
  return { nodes, readySeconds, upSeconds, rss };
}

async function main(): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({
      options: { nodes: { type: "string" }, scenario: { type: "string" } },
      strict: true,
    }));
  } catch (err: unknown) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
  const counts = parseCounts(values.nodes);
  const scenario = values.scenario ?? "nodes-only";
  const results: Result[] = [];
  for (const n of counts) {
    console.log(`== ${n} nodes (${scenario})`);
    results.push(await measure(scenario, n));
  }
  console.log("\nnodes  nodes-Ready s  whole-up s  apiserver MiB  etcd MiB  kwok MiB");
  for (const r of results) {
    const mib = (v: number | undefined): string =>
      (v === undefined || Number.isNaN(v) ? "n/a" : v.toFixed(0)).padStart(9);
    console.log(
      `${String(r.nodes).padStart(5)}  ${r.readySeconds.toFixed(1).padStart(13)}  ${r.upSeconds.toFixed(1).padStart(10)}  ` +
        `${mib(r.rss["kube-apiserver"]).padStart(13)}  ${mib(r.rss["etcd"]).padStart(8)}  ${mib(r.rss["kwok"]).padStart(8)}`,
    );
  }
}

main().catch(async (err: unknown) => {
  if (err instanceof UsageError) {
    console.error(`bench: ${err.message}`);
    process.exitCode = 2;
    return;
  }
  console.error(`bench: ${err instanceof Error ? err.message : String(err)}`);
  if (err instanceof ComponentError) console.error(tailLog(err.logFile));
  process.exitCode = 1;
  await stopCluster({ name: NAME }).catch(() => undefined);
});
