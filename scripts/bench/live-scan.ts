// How a live scan compares with what an operator would otherwise run, on KWOK clusters of N nodes
// (scenario rke1-canal-affected: a calico-node pod and log on every node, a storm on a third of
// them). Baselines are measured in the same run against the same cluster:
//   inventory floor  `kubectl get nodes,pods -A -o json`                    vs the scan's inventory phase
//   log loop         sequential `kubectl logs` over a sample of pods, × pods vs the scan's log phase
// plus the scan's total wall time and peak RSS (the scan runs as its own process: the real CLI path
// for RSS, an instrumented child for phase times).
//
// Measurements start once the cluster is quiet, not when `up` returns. The loop samples storm and
// quiet pods alike (a storm log takes kubectl ~5x longer) and extrapolates each by its count. For
// the log phase the bench also reports the CPU every harness process used: the simulated kubelets
// of all N nodes share this machine's cores with the scan, which a real cluster does not do.
//   npm run bench:live -- --nodes 1000,5000 [--log-sample 40] [--qps 100]
import { execFile } from "node:child_process";
import { availableParallelism } from "node:os";
import { fileURLToPath } from "node:url";
import { parseArgs, promisify } from "node:util";
import { startCluster, stopCluster, type ClusterInfo } from "../cluster/cluster.js";
import { findKubectl } from "../cluster/tools.js";
import { cpuOf, cpuSeconds, waitForQuiet } from "./proc.js";
import { loadKubeConfig } from "../../src/kube/config.js";
import { resolveEndpoint } from "../../src/kube/endpoint.js";
import { KubeClient, DEFAULT_CLIENT } from "../../src/kube/client.js";
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
  node: string;
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
  const list = JSON.parse(stdout) as {
    items: { metadata: { namespace: string; name: string }; spec: { nodeName?: string } }[];
  };
  return list.items.map((p) => ({ ...p.metadata, node: p.spec.nodeName ?? "" }));
}

interface ChildArgs {
  kubeconfig: string;
  pids: Record<string, number>;
  qps: number;
}

/**
 * The instrumented child: one collectLive with phase times, the requests it made and the CPU every
 * process used during the log phase.
 */
async function child(args: ChildArgs): Promise<void> {
  const advisories = await loadAdvisories(SHIPPED_ADVISORIES_DIR);
  const loaded = loadKubeConfig({ kubeconfig: args.kubeconfig, env: process.env });
  const client = KubeClient.fromEndpoint(await resolveEndpoint(loaded), {
    ...DEFAULT_CLIENT,
    qps: args.qps,
    burst: args.qps * 2,
  });
  const phases: Record<string, number> = {};
  const mark = (): { cpu: Record<string, number>; requests: number } => ({
    cpu: { ...cpuOf(args.pids), scan: cpuSeconds(process.pid) },
    requests: client.stats.requests,
  });
  const marks: Record<string, ReturnType<typeof mark>> = {};
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
      marks[phase] = mark();
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
      logPhase: logPhase(marks.inventory, marks.logs),
    })}\n`,
  );
}

function logPhase(
  start: { cpu: Record<string, number>; requests: number } | undefined,
  end: { cpu: Record<string, number>; requests: number } | undefined,
): ChildResult["logPhase"] {
  if (start === undefined || end === undefined) return { cpu: {}, requests: 0 };
  const cpu = Object.fromEntries(
    Object.entries(end.cpu).map(([name, seconds]) => [name, seconds - (start.cpu[name] ?? 0)]),
  );
  return { cpu, requests: end.requests - start.requests };
}

interface ChildResult {
  phases: Record<string, number>;
  total: number;
  nodes: number;
  logs: number;
  gaps: number;
  stats: { requests: number; retries: number; failures: number };
  /** CPU seconds per process (the harness's and the scan's) and requests made, during the log phase. */
  logPhase: { cpu: Record<string, number>; requests: number };
}

/** The loop's seconds for a sample of each kind of pod, extrapolated to each kind's count. */
async function logLoop(
  kubectl: string,
  env: NodeJS.ProcessEnv,
  pods: readonly PodRef[],
  hotNodes: ReadonlySet<string>,
  sampleSize: number,
): Promise<{ seconds: number; sampled: number; perKind: string }> {
  const kinds = [
    { name: "storm", pods: pods.filter((p) => hotNodes.has(p.node)) },
    { name: "quiet", pods: pods.filter((p) => !hotNodes.has(p.node)) },
  ].filter((k) => k.pods.length > 0);
  let seconds = 0;
  let sampled = 0;
  const perKind: string[] = [];
  for (const kind of kinds) {
    const sample = kind.pods.slice(0, Math.max(1, Math.round(sampleSize / kinds.length)));
    let total = 0;
    for (const p of sample) {
      const t = await timed(
        kubectl,
        ["logs", "-n", p.namespace, p.name, "-c", "calico-node", "--since=1h", "--limit-bytes=16777216"],
        env,
      );
      total += t.seconds;
    }
    sampled += sample.length;
    seconds += (total / sample.length) * kind.pods.length;
    perKind.push(`${kind.name} ${((total / sample.length) * 1000).toFixed(0)} ms × ${kind.pods.length}`);
  }
  return { seconds, sampled, perKind: perKind.join(", ") };
}

function ratio(a: number, b: number): string {
  return `${(a / b).toFixed(2)}×`;
}

async function measure(nodes: number, logSample: number, qps: number): Promise<void> {
  console.log(`\n== ${nodes} nodes (scenario rke1-canal-affected) ==`);
  const t0 = Date.now();
  const info: ClusterInfo = await startCluster({ scenario: "rke1-canal-affected", nodes, name: NAME });
  console.log(`cluster up in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  console.log(`cluster quiet ${(await waitForQuiet(info.pids)).toFixed(0)} s later`);
  const env = { KUBECONFIG: info.kubeconfig };
  const kubectl = findKubectl();

  const floor = await timed(kubectl, ["get", "nodes,pods", "-A", "-o", "json"], env);
  const pods = await calicoPods(info.kubeconfig);
  const loop = await logLoop(kubectl, env, pods, new Set(info.hotNodes), logSample);

  const childArgs: ChildArgs = { kubeconfig: info.kubeconfig, pids: info.pids, qps };
  const instrumented = await timed(process.execPath, [SELF, "--child", JSON.stringify(childArgs)]);
  const c = JSON.parse(instrumented.stdout) as ChildResult;
  const cli = await timed(process.execPath, [
    CLI,
    "scan",
    "--kubeconfig",
    info.kubeconfig,
    "-o",
    "json",
    ...(qps === DEFAULT_CLIENT.qps ? [] : ["--qps", String(qps), "--burst", String(qps * 2)]),
  ]);

  const inventory = c.phases.inventory ?? Number.NaN;
  const logs = c.phases.logs ?? Number.NaN;
  console.log(`scan read ${c.nodes} nodes, ${c.logs} logs, ${c.stats.requests} requests, ${c.gaps} gaps`);
  console.log(`log loop: ${loop.perKind} (${loop.sampled} pods run)`);
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
      [`kubectl logs loop (extrapolated to ${pods.length} pods)`, loop.seconds.toFixed(1), "", ""],
      ["scan log phase", logs.toFixed(2), "", `${ratio(loop.seconds, logs)} faster (target ≥ 10×)`],
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
  printLogPhase(c, loop.seconds, qps);
}

/**
 * Where the log phase's time went. Two bounds that are not the scan's own doing: the rate limit
 * (requests made in the phase, less the burst, over --qps) and the harness's CPU (every harness
 * process's CPU seconds spread over this machine's cores: the phase could not be shorter even if the
 * scan itself cost nothing).
 */
function printLogPhase(c: ChildResult, loopSeconds: number, qps: number): void {
  const cores = availableParallelism();
  const cpu = Object.entries(c.logPhase.cpu).sort((a, b) => b[1] - a[1]);
  const total = cpu.reduce((sum, [, s]) => sum + s, 0);
  const harness = total - (c.logPhase.cpu.scan ?? 0);
  const logs = c.phases.logs ?? Number.NaN;
  console.log(`log phase CPU (${cores} cores, ${((total / (logs * cores)) * 100).toFixed(0)} % busy):`);
  for (const [name, seconds] of cpu)
    console.log(
      `  ${name.padEnd(24)} ${seconds.toFixed(2).padStart(7)} s  ${((seconds / c.logs) * 1000).toFixed(1).padStart(5)} ms/pod`,
    );
  const rateFloor = Math.max(0, (c.logPhase.requests - 2 * qps) / qps);
  const cpuFloor = harness / cores;
  const rateBound =
    rateFloor > 0 ? `≥ ${rateFloor.toFixed(1)} s → at most ${ratio(loopSeconds, rateFloor)}` : "none";
  console.log(
    `  bound by the rate limit (${c.logPhase.requests} requests at ${qps}/s after a burst of ${2 * qps}): ${rateBound}`,
  );
  console.log(
    `  bound by the harness's CPU (${harness.toFixed(1)} s over ${cores} cores): ≥ ${cpuFloor.toFixed(1)} s → at most ${ratio(loopSeconds, cpuFloor)}`,
  );
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      nodes: { type: "string", default: "1000,5000" },
      "log-sample": { type: "string", default: "40" },
      qps: { type: "string", default: String(DEFAULT_CLIENT.qps) },
      child: { type: "string" },
    },
  });
  if (values.child !== undefined) {
    await child(JSON.parse(values.child) as ChildArgs);
    return;
  }
  const qps = Number(values.qps);
  if (!(qps > 0)) throw new Error(`--qps: not a positive number: '${values.qps}'`);
  const counts = values.nodes.split(",").map((n) => Number(n.trim()));
  if (counts.some((n) => !Number.isInteger(n) || n < 1))
    throw new Error(`--nodes: bad list '${values.nodes}'`);
  try {
    for (const [i, n] of counts.entries()) {
      // A fresh cluster per size: growing 1,000 nodes to 5,000 in place took 517 s, a new one ~200 s.
      if (i > 0) await stopCluster({ name: NAME });
      await measure(n, Number(values["log-sample"]), qps);
    }
  } finally {
    await stopCluster({ name: NAME });
  }
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? (e.stack ?? e.message) : String(e));
  process.exitCode = 1;
});
