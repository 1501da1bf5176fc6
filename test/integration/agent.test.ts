// The node agent against the real control plane: one agent process per simulated node, each with
// its own CRI log directory that the test appends Felix lines to, running under the shipped
// ServiceAccount and RBAC (a TokenRequest token, not admin). The Node condition and Events appear
// and clear; a real Prometheus scrapes every agent; the manifests and the Helm chart pass a
// server-side dry run. Needs scripts/cluster/ensure-tools.sh (apiserver, etcd, kwok, prometheus, helm).
import { after, before, describe, test } from "node:test";
import { freePort } from "../../scripts/cluster/ports.js";
import assert from "node:assert/strict";
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { startCluster, stopCluster, type ClusterInfo } from "../../scripts/cluster/cluster.js";
import { findKubectl } from "../../scripts/cluster/tools.js";
import { writeTokenKubeconfig } from "../../scripts/cluster/token-kubeconfig.js";
import { agentArgv } from "../../src/cli/agent-launch.js";
import { felixLog, toCri } from "../../scripts/fixtures/felix-log.js";

const run = promisify(execFile);
const NAME = `it-agent-${process.pid}`;
const REPO = join(import.meta.dirname, "..", "..", "..");
const HELM = join(
  process.env.CNIDOCTOR_CACHE ?? join(homedir(), ".cache", "cnidoctor"),
  "helm",
  "v3.19.0",
  "bin",
  "helm",
);
const CLEAR_AFTER_S = 8;

let cluster: ClusterInfo | undefined;
const work = mkdtempSync(join(tmpdir(), "cnid-it-agent-"));

function info(): ClusterInfo {
  assert.ok(cluster, "cluster did not start");
  return cluster;
}

async function kubectl(args: string[], input?: string, kubeconfig = info().kubeconfig): Promise<string> {
  const child = execFile(findKubectl(), args, {
    env: { ...process.env, KUBECONFIG: kubeconfig },
    maxBuffer: 64 << 20,
  });
  const done = new Promise<string>((resolve, reject) => {
    let out = "";
    let err = "";
    child.stdout?.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr?.on("data", (d: Buffer) => (err += d.toString()));
    child.on("close", (code) =>
      code === 0 ? resolve(out) : reject(new Error(`kubectl ${args.join(" ")}: ${err}`)),
    );
  });
  child.stdin?.end(input ?? "");
  return done;
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`timed out waiting for ${what}${last instanceof Error ? `: ${last.message}` : ""}`);
}

interface Agent {
  node: string;
  logFile: string;
  port: number;
  proc: ChildProcess;
  stderr: string[];
}

const agents: Agent[] = [];
let prometheus: ChildProcess | undefined;
let promPort = 0;

interface NodeJson {
  status: { conditions?: { type: string; status: string; reason?: string }[] };
}

async function condition(node: string): Promise<{ status: string; reason?: string } | undefined> {
  const n = JSON.parse(await kubectl(["get", "node", node, "-o", "json"])) as NodeJson;
  return n.status.conditions?.find((c) => c.type === "CalicoXDPRetryLoop");
}

interface EventList {
  items: {
    reason?: string;
    regarding?: { name?: string };
    type?: string;
    series?: { count: number };
    reportingController?: string;
  }[];
}

/**
 * The agent's events about a node. The control plane writes its own about nodes too (the node
 * controller's RegisteredNode, whenever it gets to it), which say nothing about the agent.
 */
async function nodeEvents(node: string): Promise<EventList["items"]> {
  const out = await kubectl(["get", "events.v1.events.k8s.io", "-n", "default", "-o", "json"]);
  return (JSON.parse(out) as EventList).items.filter(
    (e) => e.regarding?.name === node && e.reportingController === "cnidoctor.io/agent",
  );
}

function felixLines(kind: "storm" | "quiet", seconds: number): string {
  const lines = [
    ...felixLog({ calicoVersion: "v3.28.0", kind, start: new Date(), durationSeconds: seconds }),
  ];
  return `${lines.map((l) => toCri(l)).join("\n")}\n`;
}

/** A kubeconfig for the agent's ServiceAccount: the harness's server and CA, a TokenRequest token. */
async function serviceAccountKubeconfig(): Promise<string> {
  const token = (
    await kubectl(["-n", "cnidoctor", "create", "token", "cnidoctor-agent", "--duration=1h"])
  ).trim();
  return writeTokenKubeconfig(info().kubeconfig, token, join(work, "agent-kubeconfig.yaml"));
}

async function startAgent(node: string, kubeconfig: string): Promise<Agent> {
  const dir = join(work, node, "logs", `kube-system_canal-${node}_0000-uid`, "calico-node");
  const state = join(work, node, "state");
  mkdirSync(dir, { recursive: true });
  mkdirSync(state, { recursive: true });
  const logFile = join(dir, "0.log");
  writeFileSync(logFile, felixLines("quiet", 5));
  // Started as the DaemonSet starts it (cnidoctor-agent: its Node flags included).
  const proc = spawn(
    process.execPath,
    agentArgv([
      `--node-name=${node}`,
      `--log-root=${join(work, node, "logs")}`,
      `--state-dir=${state}`,
      "--listen=127.0.0.1:0",
      `--clear-after=${CLEAR_AFTER_S}s`,
      "--event-interval=2s",
      "--poll-interval=250ms",
      "--first-write-jitter=1s",
    ]),
    { env: { ...process.env, KUBECONFIG: kubeconfig }, stdio: ["ignore", "ignore", "pipe"] },
  );
  const stderr: string[] = [];
  proc.stderr?.on("data", (d: Buffer) => stderr.push(d.toString()));
  const port = await waitFor(`agent on ${node} to listen`, () => {
    const m = /metrics on http:\/\/127\.0\.0\.1:(\d+)\/metrics/.exec(stderr.join(""));
    return Promise.resolve(m ? Number(m[1]) : undefined);
  });
  const agent = { node, logFile, port, proc, stderr };
  agents.push(agent);
  return agent;
}

async function promQuery(
  query: string,
): Promise<{ metric: Record<string, string>; value: [number, string] }[]> {
  const res = await fetch(`http://127.0.0.1:${promPort}/api/v1/query?query=${encodeURIComponent(query)}`);
  const body = (await res.json()) as {
    data: { result: { metric: Record<string, string>; value: [number, string] }[] };
  };
  return body.data.result;
}

before(
  async () => {
    cluster = await startCluster({ scenario: "nodes-only", nodes: 2, name: NAME });
    await kubectl(["apply", "-f", join(REPO, "deploy", "agent", "namespace.yaml")]);
    await kubectl(["apply", "-f", join(REPO, "deploy", "agent", "rbac.yaml")]);
  },
  { timeout: 300_000 },
);

after(
  async () => {
    for (const a of agents) if (a.proc.exitCode === null) a.proc.kill("SIGKILL");
    prometheus?.kill("SIGTERM");
    await stopCluster({ name: NAME });
    rmSync(work, { recursive: true, force: true });
  },
  { timeout: 60_000 },
);

describe("manifests", () => {
  test("the plain YAML passes a server-side dry run, monitors included (with their CRDs installed)", async () => {
    const dir = join(REPO, "deploy", "agent");
    const core = ["rbac.yaml", "daemonset.yaml", "service.yaml"].map((f) => ["-f", join(dir, f)]).flat();
    const out = await kubectl(["apply", "--dry-run=server", ...core]);
    assert.match(out, /daemonset.apps\/cnidoctor-agent (created|configured|unchanged) \(server dry run\)/);
    await kubectl(["apply", "-f", "-"], monitorCrds());
    await kubectl([
      "wait",
      "--for=condition=Established",
      "crd/podmonitors.monitoring.coreos.com",
      "crd/servicemonitors.monitoring.coreos.com",
    ]);
    const monitors = await kubectl([
      "apply",
      "--dry-run=server",
      "-f",
      join(dir, "podmonitor.yaml"),
      "-f",
      join(dir, "servicemonitor.yaml"),
    ]);
    assert.match(monitors, /podmonitor.monitoring.coreos.com\/cnidoctor-agent created \(server dry run\)/);
    assert.match(
      monitors,
      /servicemonitor.monitoring.coreos.com\/cnidoctor-agent created \(server dry run\)/,
    );
  });

  test("the Helm chart lints and its rendering passes a server-side dry run", async () => {
    const chart = join(REPO, "deploy", "helm", "cnidoctor-agent");
    await run(HELM, ["lint", chart]);
    const { stdout } = await run(HELM, [
      "template",
      "agent",
      chart,
      "--namespace",
      "cnidoctor",
      "--set",
      "monitors.podMonitor.enabled=true",
      "--set",
      "monitors.serviceMonitor.enabled=true",
      "--set",
      "agent.clearAfter=45m",
    ]);
    assert.match(stdout, /--clear-after=45m/);
    const out = await kubectl(["apply", "--dry-run=server", "-f", "-"], stdout);
    for (const kind of [
      "daemonset.apps/agent",
      "clusterrole.rbac.authorization.k8s.io/agent",
      "podmonitor.monitoring.coreos.com/agent",
      "servicemonitor.monitoring.coreos.com/agent",
    ]) {
      assert.match(
        out,
        new RegExp(`${kind.replace(/[./]/g, "\\$&")} (created|configured|unchanged) \\(server dry run\\)`),
      );
    }
  });

  test("the ServiceAccount may do what the agent needs and nothing beyond it", async () => {
    const as = ["--as=system:serviceaccount:cnidoctor:cnidoctor-agent"];
    // can-i prints yes/no on stdout and exits 1 for "no": read stdout whatever the exit code.
    const can = async (...args: string[]): Promise<string> => {
      const { stdout } = await run(findKubectl(), ["auth", "can-i", ...args, ...as], {
        env: { ...process.env, KUBECONFIG: info().kubeconfig },
      }).catch((e: unknown) => e as { stdout: string });
      return stdout.trim();
    };
    assert.equal(await can("get", "nodes"), "yes");
    assert.equal(await can("patch", "nodes", "--subresource=status"), "yes");
    assert.equal(await can("create", "events.events.k8s.io", "-n", "default"), "yes");
    assert.equal(await can("patch", "events.events.k8s.io", "-n", "default"), "yes");
    assert.equal(await can("list", "nodes"), "no");
    assert.equal(await can("patch", "nodes"), "no");
    assert.equal(await can("get", "secrets", "-n", "cnidoctor"), "no");
    assert.equal(await can("create", "events.events.k8s.io", "-n", "kube-system"), "no");
  });
});

describe("scan Job", () => {
  test("the plain Job and the chart's scan Job pass a server-side dry run", async () => {
    await kubectl(["apply", "-f", join(REPO, "deploy", "rbac", "cnidoctor-scan.yaml")]);
    const plain = await kubectl([
      "apply",
      "--dry-run=server",
      "-f",
      join(REPO, "deploy", "scan", "job.yaml"),
    ]);
    assert.match(plain, /job.batch\/cnidoctor-scan created \(server dry run\)/);
    const { stdout } = await run(HELM, [
      "template",
      "agent",
      join(REPO, "deploy", "helm", "cnidoctor-agent"),
      "--namespace",
      "cnidoctor",
      "--set",
      "scan.enabled=true",
      "--set",
      "image.repository=registry.example:5000/mirror/cnidoctor",
    ]);
    const out = await kubectl(["apply", "--dry-run=server", "-f", "-"], stdout);
    for (const kind of [
      "job.batch/agent-scan-1",
      "serviceaccount/agent-scan",
      "clusterrole.rbac.authorization.k8s.io/agent-scan",
      "clusterrolebinding.rbac.authorization.k8s.io/agent-scan",
    ]) {
      assert.match(
        out,
        new RegExp(`${kind.replace(/[./]/g, "\\$&")} (created|configured|unchanged) \\(server dry run\\)`),
      );
    }
  });

  test("the scan ServiceAccount reads what scan needs, cluster-wide, and nothing else", async () => {
    await kubectl(["apply", "-f", join(REPO, "deploy", "rbac", "cnidoctor-scan.yaml")]);
    const as = ["--as=system:serviceaccount:cnidoctor:cnidoctor-scan"];
    const can = async (...args: string[]): Promise<string> => {
      const { stdout } = await run(findKubectl(), ["auth", "can-i", ...args, ...as], {
        env: { ...process.env, KUBECONFIG: info().kubeconfig },
      }).catch((e: unknown) => e as { stdout: string });
      return stdout.trim();
    };
    for (const ok of [
      ["list", "nodes"],
      ["list", "pods", "-A"],
      ["get", "pods", "--subresource=log", "-n", "kube-system"],
      ["list", "daemonsets.apps", "-A"],
      // The CNI's flannel ConfigMaps, by name only.
      ["get", "configmap/rke2-canal-config", "-n", "kube-system"],
      // The Calico CRDs are not installed in this scenario, so can-i cannot resolve them; their rule
      // is compared with the chart's in test/package/manifests.test.ts.
    ]) {
      assert.equal(await can(...ok), "yes", ok.join(" "));
    }
    for (const no of [
      ["get", "secrets", "-n", "kube-system"],
      ["list", "secrets", "-A"],
      ["get", "configmaps", "-n", "kube-system"],
      ["list", "configmaps", "-A"],
      ["get", "configmap/kubeadm-config", "-n", "kube-system"],
      ["delete", "pods", "-n", "kube-system"],
      ["create", "pods", "--subresource=exec", "-n", "kube-system"],
      ["patch", "daemonsets.apps", "-n", "kube-system"],
    ]) {
      assert.equal(await can(...no), "no", no.join(" "));
    }
  });
});

function monitorCrds(): string {
  // Minimal CRDs: the real group, kinds and scope, with an open schema. Enough for the apiserver to
  // accept and validate the objects' envelope in a dry run; the Prometheus Operator is not needed.
  return ["PodMonitor", "ServiceMonitor"]
    .map((kind) => {
      const plural = `${kind.toLowerCase()}s`;
      return JSON.stringify({
        apiVersion: "apiextensions.k8s.io/v1",
        kind: "CustomResourceDefinition",
        metadata: { name: `${plural}.monitoring.coreos.com` },
        spec: {
          group: "monitoring.coreos.com",
          scope: "Namespaced",
          names: { kind, plural, singular: kind.toLowerCase(), listKind: `${kind}List` },
          versions: [
            {
              name: "v1",
              served: true,
              storage: true,
              schema: { openAPIV3Schema: { type: "object", "x-kubernetes-preserve-unknown-fields": true } },
            },
          ],
        },
      });
    })
    .join("\n");
}

describe("agent on simulated nodes", () => {
  test(
    "condition and events appear on the hot node and clear; Prometheus scrapes the counter",
    { timeout: 240_000 },
    async () => {
      const nodes = (await kubectl(["get", "nodes", "-o", "jsonpath={.items[*].metadata.name}"]))
        .trim()
        .split(" ");
      assert.equal(nodes.length, 2);
      const [hot, calm] = nodes as [string, string];
      const kubeconfig = await serviceAccountKubeconfig();
      const hotAgent = await startAgent(hot, kubeconfig);
      const calmAgent = await startAgent(calm, kubeconfig);

      promPort = await freePort();
      const promDir = join(work, "prometheus");
      mkdirSync(promDir);
      writeFileSync(
        join(promDir, "prometheus.yml"),
        [
          "global:",
          "  scrape_interval: 1s",
          "scrape_configs:",
          "  - job_name: cnidoctor-agent",
          "    static_configs:",
          `      - targets: ['127.0.0.1:${hotAgent.port}', '127.0.0.1:${calmAgent.port}']`,
          "",
        ].join("\n"),
      );
      prometheus = spawn(
        "/usr/bin/prometheus",
        [
          `--config.file=${join(promDir, "prometheus.yml")}`,
          `--storage.tsdb.path=${join(promDir, "data")}`,
          `--web.listen-address=127.0.0.1:${promPort}`,
        ],
        { stdio: "ignore" },
      );

      // Both start healthy: the first write (after the jitter) sets False / NoSymptom.
      for (const n of nodes) {
        const c = await waitFor(`first condition on ${n}`, () => condition(n));
        assert.equal(c.status, "False");
        assert.equal(c.reason, "NoSymptom");
      }

      // The storm begins on one node only, written over a few seconds like a live Felix.
      for (let i = 0; i < 4; i++) {
        appendFileSync(hotAgent.logFile, felixLines("storm", 8));
        await new Promise((r) => setTimeout(r, 500));
      }
      const seen = await waitFor("condition True on the hot node", async () => {
        const c = await condition(hot);
        return c?.status === "True" ? c : undefined;
      });
      assert.equal(seen.reason, "SymptomSeen");
      assert.equal((await condition(calm))?.status, "False");
      const warnings = await waitFor("a Warning event on the hot node", async () => {
        const list = (await nodeEvents(hot)).filter((e) => e.reason === "CalicoXDPRetryLoop");
        return list.length > 0 ? list : undefined;
      });
      assert.ok(warnings.every((e) => e.type === "Warning"));
      const aboutCalm = await nodeEvents(calm);
      assert.equal(aboutCalm.length, 0, `no events about the calm node: ${JSON.stringify(aboutCalm)}`);

      const series = await waitFor("the match counter in Prometheus", async () => {
        const r = await promQuery('cnidoctor_signature_matches_total{signature="xdp-btf-load-failure"} > 0');
        return r.length > 0 ? r : undefined;
      });
      assert.deepEqual(
        series.map((s) => s.metric.node),
        [hot],
      );
      assert.equal(series[0]?.metric.advisory, "CNID-2024-0001");
      assert.ok(Number(series[0]?.value[1]) >= 12);
      const calmSeries = await waitFor("the calm node's series", async () => {
        const r = await promQuery(
          `cnidoctor_signature_matches_total{node="${calm}",signature="xdp-btf-load-failure"}`,
        );
        return r.length > 0 ? r : undefined;
      });
      assert.equal(calmSeries[0]?.value[1], "0", "the calm node exports the series at 0");

      // The storm stops; quiet lines go on. After clear-after the condition goes back to False.
      const quietUntil = Date.now() + (CLEAR_AFTER_S + 20) * 1000;
      const cleared = await waitFor(
        "condition cleared on the hot node",
        async () => {
          if (Date.now() < quietUntil) appendFileSync(hotAgent.logFile, felixLines("quiet", 2));
          const c = await condition(hot);
          return c?.status === "False" ? c : undefined;
        },
        (CLEAR_AFTER_S + 30) * 1000,
      );
      assert.equal(cleared.reason, "SymptomCleared");
      const clearedEvents = await waitFor("a cleared event", async () => {
        const list = (await nodeEvents(hot)).filter((e) => e.reason === "CalicoXDPRetryLoopCleared");
        return list.length > 0 ? list : undefined;
      });
      assert.equal(clearedEvents[0]?.type, "Normal");

      // SIGTERM: a clean stop with exit code 0 (main.ts is the only exit).
      for (const a of [hotAgent, calmAgent]) {
        const code = new Promise<number | null>((r) => a.proc.once("exit", (c) => r(c)));
        a.proc.kill("SIGTERM");
        assert.equal(await code, 0, a.stderr.join(""));
        assert.match(a.stderr.join(""), /stopped/);
      }
    },
  );
});
