// Benchmark of the node agent: CPU (% of one core, from /proc/<pid>/stat utime+stime over the run)
// and RSS (VmRSS from /proc/<pid>/status: peak and end) while this script appends calico-node CRI
// lines to a file the agent tails, at 0 (idle baseline), 10, 100 and 1,000 lines per second. The
// lines are a realistic mix from scripts/fixtures/felix-log.ts: a Felix XDP retry storm with its
// multi-line BTF dumps between routine lines. Targets: < 2% of a core and < 50 MB RSS at 100/s.
//
// The agent runs as deployed: the cnidoctor-agent entry with its Node flags, and (unless
// --metrics-only) talking TLS to a real kube-apiserver from the project's harness, where it sets
// its Node condition and writes Events — so the HTTPS client's memory is in the figures.
//
//   npm run bench:agent [-- --seconds 30 --rates 0,10,100,1000 --metrics-only]

import { spawn } from "node:child_process";
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { agentArgv, agentNodeFlags } from "../../src/cli/agent-launch.js";
import { planNodes } from "../cluster/node-objects.js";
import { findScenario, NODES_ONLY } from "../cluster/scenarios.js";
import { startCluster, stopCluster } from "../cluster/cluster.js";
import { felixLog, toCri } from "../fixtures/felix-log.js";
import { CLK_TCK, cpuTicks } from "./proc.js";

const { values } = parseArgs({
  options: {
    seconds: { type: "string", default: "30" },
    rates: { type: "string", default: "0,10,100,1000" },
    "metrics-only": { type: "boolean", default: false },
  },
});
const SECONDS = Number(values.seconds);
const RATES = values.rates.split(",").map(Number);
const CLUSTER = "bench-agent";

/** A long pool of realistic lines (storm cycles between routine lines), cycled by the writer. */
const POOL = [
  ...felixLog({
    calicoVersion: "v3.28.0",
    kind: "storm",
    start: new Date(),
    durationSeconds: 600,
    quietIntervalSeconds: 1,
  }),
].map((l) => l.text);

function rssMB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) / 1024 : Number.NaN;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Figures {
  rate: number;
  cpuPercent: number;
  rssPeak: number;
  rssEnd: number;
  linesWritten: number;
  linesRead: number;
  matches: number;
}

async function metric(port: number, name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  return text
    .split("\n")
    .filter((l) => l.startsWith(name))
    .reduce((sum, l) => sum + Number(l.slice(l.lastIndexOf(" ") + 1)), 0);
}

async function runOnce(rate: number, nodeName: string, kubeconfig: string | undefined): Promise<Figures> {
  const work = mkdtempSync(join(tmpdir(), "cnid-bench-agent-"));
  const dir = join(work, "logs", "kube-system_canal-bench_0000", "calico-node");
  mkdirSync(dir, { recursive: true });
  mkdirSync(join(work, "state"));
  const file = join(dir, "0.log");
  writeFileSync(file, "");
  const agent = spawn(
    process.execPath,
    agentArgv([
      `--node-name=${nodeName}`,
      `--log-root=${join(work, "logs")}`,
      `--state-dir=${join(work, "state")}`,
      "--listen=127.0.0.1:0",
      ...(kubeconfig === undefined ? ["--metrics-only"] : []),
    ]),
    { env: { ...process.env, KUBECONFIG: kubeconfig ?? "" }, stdio: ["ignore", "ignore", "pipe"] },
  );
  let stderr = "";
  agent.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  let port = 0;
  for (let i = 0; i < 100 && port === 0; i++) {
    await sleep(100);
    port = Number(/metrics on http:\/\/127\.0\.0\.1:(\d+)/.exec(stderr)?.[1] ?? 0);
  }
  const pid = agent.pid;
  if (port === 0 || pid === undefined) throw new Error(`agent did not start: ${stderr}`);
  await sleep(2000); // settle after start (the advisory loader child has exited)
  const startTicks = cpuTicks(pid);
  const startAt = process.hrtime.bigint();
  let rssPeak = rssMB(pid);
  let written = 0;
  let cursor = 0;
  const stepMs = 100;
  for (let t = 0; t < SECONDS * 1000; t += stepMs) {
    const due = Math.floor(((t + stepMs) / 1000) * rate) - written;
    if (due > 0) {
      let chunk = "";
      for (let i = 0; i < due; i++) {
        chunk += `${toCri({ time: new Date(), text: POOL[cursor % POOL.length] ?? "" })}\n`;
        cursor++;
      }
      appendFileSync(file, chunk);
      written += due;
    }
    await sleep(stepMs);
    if (t % 1000 === 0) rssPeak = Math.max(rssPeak, rssMB(pid));
  }
  await sleep(1500); // let the agent read the last lines
  const seconds = Number(process.hrtime.bigint() - startAt) / 1e9;
  const cpuPercent = ((cpuTicks(pid) - startTicks) / CLK_TCK / seconds) * 100;
  const rssEnd = rssMB(pid);
  const linesRead = await metric(port, "cnidoctor_log_lines_read_total");
  const matches = await metric(
    port,
    'cnidoctor_signature_matches_total{advisory="CNID-2024-0001",signature="xdp-btf-load-failure"',
  );
  const exited = new Promise((r) => agent.once("exit", r));
  agent.kill("SIGTERM");
  await exited;
  rmSync(work, { recursive: true, force: true });
  return {
    rate,
    cpuPercent,
    rssPeak: Math.max(rssPeak, rssEnd),
    rssEnd,
    linesWritten: written,
    linesRead,
    matches,
  };
}

const cluster = values["metrics-only"]
  ? undefined
  : await startCluster({ scenario: NODES_ONLY, nodes: 1, name: CLUSTER });
try {
  // The node the harness created, named by the harness's own plan.
  const scenario = findScenario(NODES_ONLY);
  const first = scenario === undefined ? undefined : planNodes(scenario, 1)[0]?.name;
  if (cluster !== undefined && first === undefined) throw new Error(`no node plan for ${NODES_ONLY}`);
  const nodeName = cluster === undefined ? "bench" : (first ?? "");
  console.log(
    `cnidoctor agent benchmark: ${SECONDS} s per rate, Node ${process.version}, CLK_TCK ${CLK_TCK}, ` +
      `node flags ${agentNodeFlags().join(" ")}, ${cluster === undefined ? "metrics only (no API)" : `apiserver https://127.0.0.1:${cluster.apiserverPort}`}`,
  );
  console.log(
    "lines/s  cpu % core  rss peak MB  rss end MB  lines written/read  symptom matches  cpu vs idle",
  );
  let idle: number | undefined;
  for (const rate of RATES) {
    const f = await runOnce(rate, nodeName, cluster?.kubeconfig);
    if (rate === 0) idle = f.cpuPercent;
    const ratio = idle !== undefined && idle > 0 && rate > 0 ? `${(f.cpuPercent / idle).toFixed(1)}×` : "—";
    console.log(
      `${String(rate).padStart(7)}  ${f.cpuPercent.toFixed(2).padStart(10)}  ${f.rssPeak.toFixed(1).padStart(11)}  ${f.rssEnd.toFixed(1).padStart(10)}  ${`${f.linesWritten}/${f.linesRead}`.padStart(18)}  ${String(f.matches).padStart(15)}  ${ratio.padStart(11)}`,
    );
  }
} finally {
  if (cluster !== undefined) await stopCluster({ name: CLUSTER });
}
