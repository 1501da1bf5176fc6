// How a live scan compares with what an operator would otherwise run, on KWOK clusters of N nodes
// (scenario rke1-canal-affected: a calico-node pod and log on every node). Baselines are measured
// in the same run against the same cluster:
//   inventory floor  `kubectl get nodes,pods -A -o json`                    vs the scan's inventory phase
//   log loop         sequential `kubectl logs` over a sample of pods, × pods vs the scan's log phase
// plus the scan's total wall time and peak RSS (the scan runs as its own process: the real CLI path
// for RSS, an instrumented child for phase times).
//   npm run bench:live -- --nodes 1000,5000 [--log-sample 40]
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { parseArgs, promisify } from "node:util";
import { startCluster, stopCluster, type ClusterInfo } from "../cluster/cluster.js";
import { findKubectl } from "../cluster/tools.js";
import { loadKubeConfig } from "../../src/kube/config.js";
import { KubeClient, DEFAULT_CLIENT } from "../../src/collect/live/client.js";
import { collectLive } from "../../src/collect/live/collect-live.js";
import { compileSignatures } from "../../src/logs/index.js";
import { loadAdvisories, SHIPPED_ADVISORIES_DIR } from "../../src/advisories/load.js";

const run = promisify(execFile);
const NAME = "it-live-bench";
const SELF = fileURLToPath(import.meta.url);
const CLI = fileURLToPath(new URL("../../src/cli/bin.js", import.meta.url));

interface Timed {
  seconds: number;
  rssMiB: number;
  stdout: string;
}

/** Runs a command under /usr/bin/time: wall seconds and peak RSS of the process. */
async function timed(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<Timed> {
  const r = await run("/usr/bin/time", ["-f", "TIME %e %M", cmd, ...args], {
    env: { ...process.env, ...env },
    maxBuffer: 2 * 1024 ** 3,
  }).catch((e: unknown) => {
    // The scan exits 3 when it finds something: that is a result, not a failure.
    const err = e as { code?: number; stdout?: string; stderr?: string };
    if (err.code === 3 || err.code === 4) return { stdout: err.stdout ?? "", stderr: err.stderr ?? "" };
    throw e;
  });
  const m = /TIME ([\d.]+) (\d+)/.exec(r.stderr);
  if (!m) throw new Error(`no timing from /usr/bin/time: ${r.stderr.slice(-500)}`);
  return { seconds: Number(m[1]), rssMiB: Number(m[2]) / 1024, stdout: r.stdout };
}

interface PodRef {
  namespace: string;
  name: string;
}

async function calicoPods(kubeconfig: string): Promise<PodRef[]> {
  const { stdout } = await run(
    findKubectl(),
    ["get", "pods", "-n", "kube-system", "-l", "k8s-app=canal", "-o", "json"],
    {
      env: { ...process.env, KUBECONFIG: kubeconfig },
      maxBuffer: 2 * 1024 ** 3,
    },
  );
  const list = JSON.parse(stdout) as { items: { metadata: PodRef }[] };
  return list.items.map((p) => p.metadata);
}

/** The instrumented child: one collectLive with phase times, then its own peak RSS. */
async function child(kubeconfig: string): Promise<void> {
  const advisories = await loadAdvisories(SHIPPED_ADVISORIES_DIR);
  const loaded = loadKubeConfig({ kubeconfig, env: process.env });
  const client = await KubeClient.create(loaded.config, DEFAULT_CLIENT);
  const phases: Record<string, number> = {};
  const started = Date.now();
  const snapshot = await collectLive(client, {
    container: "calico-node",
    signatures: compileSignatures(advisories),
    now: new Date(),
    targetName: "bench",
    bounds: { sinceSeconds: 3600, limitBytes: 16 * 2 ** 20 },
    concurrency: 16,
    sampleSeconds: 0,
    onPhase: (phase, ms) => {
      phases[phase] = ms / 1000;
    },
  });
  client.close();
  process.stdout.write(
    `${JSON.stringify({
      phases,
      total: (Date.now() - started) / 1000,
      nodes: snapshot.nodes.length,
      logs: snapshot.logs.length,
      gaps: snapshot.gaps.length,
      stats: client.stats,
    })}\n`,
  );
}

interface ChildResult {
  phases: Record<string, number>;
  total: number;
  nodes: number;
  logs: number;
  gaps: number;
  stats: { requests: number; retries: number; failures: number };
}

function ratio(a: number, b: number): string {
  return `${(a / b).toFixed(2)}×`;
}

async function measure(nodes: number, logSample: number): Promise<void> {
  console.log(`\n== ${nodes} nodes (scenario rke1-canal-affected) ==`);
  const t0 = Date.now();
  const info: ClusterInfo = await startCluster({ scenario: "rke1-canal-affected", nodes, name: NAME });
  console.log(`cluster up in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  const env = { KUBECONFIG: info.kubeconfig };
  const kubectl = findKubectl();

  const floor = await timed(kubectl, ["get", "nodes,pods", "-A", "-o", "json"], env);
  const pods = await calicoPods(info.kubeconfig);
  const sample = pods.slice(0, Math.min(logSample, pods.length));
  let loopSeconds = 0;
  for (const p of sample) {
    const t = await timed(
      kubectl,
      ["logs", "-n", p.namespace, p.name, "-c", "calico-node", "--since=1h", "--limit-bytes=16777216"],
      env,
    );
    loopSeconds += t.seconds;
  }
  const loopExtrapolated = (loopSeconds / sample.length) * pods.length;

  const instrumented = await timed(process.execPath, [SELF, "--child", info.kubeconfig]);
  const c = JSON.parse(instrumented.stdout) as ChildResult;
  const cli = await timed(process.execPath, [CLI, "scan", "--kubeconfig", info.kubeconfig, "-o", "json"]);

  const inventory = c.phases.inventory ?? Number.NaN;
  const logs = c.phases.logs ?? Number.NaN;
  console.log(`scan read ${c.nodes} nodes, ${c.logs} logs, ${c.stats.requests} requests, ${c.gaps} gaps`);
  console.log(
    [
      ["measure", "seconds", "peak RSS MiB", "ratio"],
      ["kubectl get nodes,pods -A -o json (floor)", floor.seconds.toFixed(2), floor.rssMiB.toFixed(0), ""],
      [
        "scan inventory phase",
        inventory.toFixed(2),
        "",
        `${ratio(inventory, floor.seconds)} of floor (target ≤ 2×)`,
      ],
      [`kubectl logs loop (${sample.length} pods, ×${pods.length})`, loopExtrapolated.toFixed(1), "", ""],
      ["scan log phase", logs.toFixed(2), "", `${ratio(loopExtrapolated, logs)} faster (target ≥ 10×)`],
      ["scan resources (2nd scrape after logs)", (c.phases.resources ?? Number.NaN).toFixed(2), "", ""],
      ["scan total (instrumented child)", c.total.toFixed(2), instrumented.rssMiB.toFixed(0), ""],
      [
        "cnidoctor scan -o json (CLI, whole process)",
        cli.seconds.toFixed(2),
        cli.rssMiB.toFixed(0),
        `RSS target < 300 MB: ${cli.rssMiB * 1.048576 < 300 ? "met" : "NOT met"}`,
      ],
    ]
      .map(
        (r) =>
          `  ${(r[0] ?? "").padEnd(46)} ${(r[1] ?? "").padStart(8)} ${(r[2] ?? "").padStart(13)}  ${r[3] ?? ""}`,
      )
      .join("\n"),
  );
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      nodes: { type: "string", default: "1000,5000" },
      "log-sample": { type: "string", default: "40" },
      child: { type: "string" },
    },
  });
  if (values.child !== undefined) {
    await child(values.child);
    return;
  }
  const counts = values.nodes.split(",").map((n) => Number(n.trim()));
  if (counts.some((n) => !Number.isInteger(n) || n < 1))
    throw new Error(`--nodes: bad list '${values.nodes}'`);
  try {
    for (const [i, n] of counts.entries()) {
      // A fresh cluster per size: growing 1,000 nodes to 5,000 in place took 517 s, a new one ~200 s.
      if (i > 0) await stopCluster({ name: NAME });
      await measure(n, Number(values["log-sample"]));
    }
  } finally {
    await stopCluster({ name: NAME });
  }
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? (e.stack ?? e.message) : String(e));
  process.exitCode = 1;
});
