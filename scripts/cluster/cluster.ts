// startCluster / stopCluster: the one entry point shared by `npm run cluster:up|down`, the
// integration tests and the benchmark. A cluster is a state directory on tmpfs plus the processes
// recorded in it; `up` converges to the requested scenario and node count, and recovers from a
// crashed earlier run by clearing whatever it finds half-alive.
import { existsSync, readFileSync, rmSync, mkdirSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { ApiClient, inParallel, type KubeObject } from "./api-client.js";
import { calicoCrds, calicoObjects, crdNames, daemonSetObjects } from "./calico-objects.js";
import {
  apiserverSpec,
  controllerManagerSpec,
  egressSelectorConfig,
  etcdSpec,
  gatewaySpec,
  kwokSpec,
  schedulerSpec,
  type Ports,
} from "./control-plane.js";
import { kwokConfig } from "./kwok-config.js";
import { nodeObject, planNodes, type NodePlan } from "./node-objects.js";
import { freePort } from "./ports.js";
import { ensurePki, pkiPaths, writeKubeconfig, type Pki } from "./pki.js";
import { writePodLogs } from "./pod-logs.js";
import { runningPid, startComponent, stopComponent, waitUntil, type ComponentSpec } from "./processes.js";
import { findScenario, hotNodeCount, NODES_ONLY, scenarioNames, type Scenario } from "./scenarios.js";
import { locateTools, missingTools, type Tools } from "./tools.js";

export class UsageError extends Error {}

export const MAX_NODES = 20_000;

export interface ClusterOptions {
  scenario: string;
  nodes: number;
  /** Distinguishes concurrent clusters; the state dir is /dev/shm/cnidoctor-cluster-<name>. */
  name?: string;
  /** Receives one line per finished step ("etcd ready 0.6 s"). */
  log?: (line: string) => void;
  /** Wait for every calico pod to be Ready (default true). */
  waitForPods?: boolean;
}

export interface ClusterInfo {
  name: string;
  scenario: string;
  nodes: number;
  stateDir: string;
  kubeconfig: string;
  apiserverPort: number;
  kwokPort: number;
  /** Pids of the running components, for RSS measurements. */
  pids: Record<string, number>;
  /** Names of the nodes that show the scenario's symptom. */
  hotNodes: string[];
  daemonSet: { namespace: string; name: string } | undefined;
}

interface StateFile {
  scenario: string;
  nodes: number;
  ports: Ports;
}

const COMPONENTS = [
  "etcd",
  "kube-apiserver",
  "kube-controller-manager",
  "kube-scheduler",
  "kubelet-gateway",
  "kwok",
];

// CNIDOCTOR_CLUSTER_NS keeps the clusters of two checkouts tested side by side on one machine apart.
export function stateDirFor(name: string): string {
  const ns = process.env.CNIDOCTOR_CLUSTER_NS;
  const prefix = ns !== undefined && /^[a-z0-9-]{1,20}$/.test(ns) ? `${ns}-` : "";
  return `/dev/shm/cnidoctor-cluster-${prefix}${name}`;
}

export function validateOptions(opts: ClusterOptions): Scenario {
  const scenario = findScenario(opts.scenario);
  if (scenario === undefined) {
    throw new UsageError(`unknown scenario "${opts.scenario}"; choose one of: ${scenarioNames().join(", ")}`);
  }
  if (!Number.isInteger(opts.nodes) || opts.nodes < 1 || opts.nodes > MAX_NODES) {
    throw new UsageError(`--nodes must be an integer from 1 to ${MAX_NODES}, got ${String(opts.nodes)}`);
  }
  const name = opts.name ?? "default";
  if (!/^[a-z0-9][a-z0-9-]{0,40}$/.test(name)) {
    throw new UsageError(`--name must be lowercase letters, digits and dashes, got "${name}"`);
  }
  return scenario;
}

async function step<T>(log: (line: string) => void, what: string, fn: () => Promise<T> | T): Promise<T> {
  const started = process.hrtime.bigint();
  const result = await fn();
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  log(`${what.padEnd(34)} ${seconds.toFixed(2)} s`);
  return result;
}

async function allocatePorts(): Promise<Ports> {
  const taken = new Set<number>();
  const next = async (): Promise<number> => {
    for (;;) {
      const p = await freePort();
      if (!taken.has(p)) {
        taken.add(p);
        return p;
      }
    }
  };
  return {
    etcd: await next(),
    etcdPeer: await next(),
    apiserver: await next(),
    controllerManager: await next(),
    scheduler: await next(),
    kwok: await next(),
  };
}

function readState(stateDir: string): StateFile | undefined {
  const file = join(stateDir, "state.json");
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, "utf8")) as StateFile;
  } catch {
    return undefined;
  }
}

async function httpOk(url: string): Promise<boolean> {
  const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
  return res.ok;
}

async function apiReady(api: ApiClient): Promise<boolean> {
  const res = await api.raw("GET", "/readyz");
  return res.status === 200;
}

// The whole cluster is thrown away, so there is no state to protect by stopping in order; in
// parallel, teardown costs one grace period instead of six.
async function stopAll(stateDir: string): Promise<void> {
  await Promise.all(COMPONENTS.map((name) => stopComponent(stateDir, name, 2000)));
}

function allRunning(stateDir: string): boolean {
  return COMPONENTS.every((c) => runningPid(stateDir, c) !== undefined);
}

interface Context {
  stateDir: string;
  tools: Tools;
  pki: Pki;
  ports: Ports;
  kubeconfig: string;
  log: (line: string) => void;
}

async function startControlPlane(ctx: Context): Promise<ApiClient> {
  const { stateDir, tools, pki, ports, kubeconfig, log } = ctx;
  const start = (spec: ComponentSpec): void => {
    startComponent(stateDir, spec);
  };
  await step(log, "etcd ready", async () => {
    start(etcdSpec(tools, stateDir, ports));
    await waitUntil("etcd /health", () => httpOk(`http://127.0.0.1:${ports.etcd}/health`), {
      stateDir,
      component: "etcd",
      timeoutMs: 30_000,
    });
  });
  const api = new ApiClient(ports.apiserver, pki);
  await step(log, "kube-apiserver ready", async () => {
    writeFileSync(
      join(stateDir, "egress-selector.yaml"),
      egressSelectorConfig(join(stateDir, "kubelet-gateway.sock")),
    );
    start(apiserverSpec(tools, stateDir, ports, pki));
    await waitUntil("kube-apiserver /readyz", () => apiReady(api), {
      stateDir,
      component: "kube-apiserver",
      timeoutMs: 120_000,
    });
  });
  await step(log, "controller-manager, scheduler up", async () => {
    start(controllerManagerSpec(tools, kubeconfig, ports, pki));
    start(schedulerSpec(tools, kubeconfig, ports));
    // Both serve /healthz over TLS with a self-signed cert; an open port is enough to go on, since
    // the later waits (service accounts, DaemonSet) prove they actually work.
    const healthz = (port: number) => () => tcpOpen(port);
    await waitUntil("kube-controller-manager", healthz(ports.controllerManager), {
      stateDir,
      component: "kube-controller-manager",
      timeoutMs: 60_000,
    });
    await waitUntil("kube-scheduler", healthz(ports.scheduler), {
      stateDir,
      component: "kube-scheduler",
      timeoutMs: 60_000,
    });
  });
  return api;
}

function tcpOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, "127.0.0.1");
    s.once("connect", () => {
      s.destroy();
      resolve(true);
    });
    s.once("error", () => resolve(false));
  });
}

async function startNodeSide(ctx: Context): Promise<void> {
  const { stateDir, tools, pki, ports, kubeconfig, log } = ctx;
  await step(log, "kubelet gateway, kwok up", async () => {
    writeFileSync(
      join(stateDir, "kubelet-gateway.json"),
      JSON.stringify({
        socketPath: join(stateDir, "kubelet-gateway.sock"),
        kwokPort: ports.kwok,
        certFile: pki.gatewayCert,
        keyFile: pki.gatewayKey,
        nodeMapFile: join(stateDir, "node-ips.json"),
      }),
    );
    startComponent(stateDir, gatewaySpec(stateDir));
    startComponent(stateDir, kwokSpec(tools, stateDir, kubeconfig, ports));
    await waitUntil(
      "kubelet gateway socket",
      () => Promise.resolve(existsSync(join(stateDir, "kubelet-gateway.sock"))),
      {
        stateDir,
        component: "kubelet-gateway",
        timeoutMs: 20_000,
      },
    );
    await waitUntil("kwok /healthz", () => tcpOpen(ports.kwok), {
      stateDir,
      component: "kwok",
      timeoutMs: 30_000,
    });
  });
}

async function applyAll(api: ApiClient, objects: readonly KubeObject[]): Promise<void> {
  for (const obj of objects) await api.apply(obj);
}

async function waitForCrds(api: ApiClient): Promise<void> {
  for (const name of crdNames()) {
    for (;;) {
      const crd = await api.json<{ status?: { conditions?: { type: string; status: string }[] } }>(
        "GET",
        `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${name}`,
      );
      if (crd.status?.conditions?.some((c) => c.type === "Established" && c.status === "True")) break;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** Creates missing nodes (status included, so nodeInfo is real) and deletes surplus ones. */
async function reconcileNodes(api: ApiClient, scenario: Scenario, plans: readonly NodePlan[]): Promise<void> {
  const wanted = new Set(plans.map((p) => p.name));
  const list = await api.json<{ items: { metadata: { name: string } }[] }>("GET", "/api/v1/nodes");
  const existing = new Set(list.items.map((n) => n.metadata.name));
  const surplus = [...existing].filter((n) => !wanted.has(n));
  await inParallel(surplus, 16, (n) => api.delete(`/api/v1/nodes/${n}`));
  const missing = plans.map((p, i) => ({ p, i })).filter(({ p }) => !existing.has(p.name));
  await inParallel(missing, 32, async ({ p, i }) => {
    const res = await api.raw("POST", "/api/v1/nodes", JSON.stringify(nodeObject(scenario, p, i)));
    if (res.status !== 201 && res.status !== 409)
      throw new Error(`creating node ${p.name}: HTTP ${res.status} ${res.body.slice(0, 300)}`);
  });
}

interface NodeList {
  items: { metadata: { name: string }; status?: { conditions?: { type: string; status: string }[] } }[];
}

export async function countReadyNodes(api: ApiClient): Promise<number> {
  const list = await api.json<NodeList>("GET", "/api/v1/nodes");
  return list.items.filter((n) =>
    n.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True"),
  ).length;
}

async function waitForNodes(ctx: Context, api: ApiClient, count: number): Promise<void> {
  await waitUntil(`${count} Ready nodes`, async () => (await countReadyNodes(api)) === count, {
    stateDir: ctx.stateDir,
    component: "kwok",
    timeoutMs: 600_000,
  });
}

interface DaemonSetStatus {
  metadata: { generation?: number };
  status?: {
    observedGeneration?: number;
    desiredNumberScheduled?: number;
    numberReady?: number;
    updatedNumberScheduled?: number;
  };
}

async function waitForDaemonSet(
  ctx: Context,
  api: ApiClient,
  scenario: Scenario,
  count: number,
): Promise<void> {
  const path = `/apis/apps/v1/namespaces/${scenario.daemonSet.namespace}/daemonsets/${scenario.daemonSet.name}`;
  await waitUntil(
    `${count} Ready ${scenario.daemonSet.name} pods`,
    async () => {
      const ds = await api.json<DaemonSetStatus>("GET", path);
      const s = ds.status;
      return (
        s !== undefined &&
        s.observedGeneration === ds.metadata.generation &&
        s.desiredNumberScheduled === count &&
        s.numberReady === count &&
        s.updatedNumberScheduled === count
      );
    },
    { stateDir: ctx.stateDir, component: "kube-controller-manager", timeoutMs: 900_000 },
  );
}

/** Waits until the ServiceAccount controller made `default` in `default`: before that, pods are refused. */
async function waitForServiceAccounts(ctx: Context, api: ApiClient): Promise<void> {
  await waitUntil(
    "default ServiceAccount",
    async () => (await api.raw("GET", "/api/v1/namespaces/default/serviceaccounts/default")).status === 200,
    {
      stateDir: ctx.stateDir,
      component: "kube-controller-manager",
      timeoutMs: 60_000,
    },
  );
}

/**
 * kwok builds its per-node pod view for metrics lazily, on the first scrape, and answers that
 * first scrape without container series. Scrape every node once (directly on kwok, not through
 * the apiserver) until the series appear, so the first real reader already gets numbers.
 */
async function warmMetrics(ctx: Context, plans: readonly NodePlan[]): Promise<void> {
  const scrape = async (node: string): Promise<boolean> => {
    const res = await fetch(`http://127.0.0.1:${ctx.ports.kwok}/metrics/nodes/${node}/metrics/resource`);
    const body = await res.text();
    return res.status === 200 && body.includes("container_memory_working_set_bytes{");
  };
  await inParallel(plans, 16, async (plan) => {
    await waitUntil(`resource metrics of ${plan.name}`, () => scrape(plan.name), {
      stateDir: ctx.stateDir,
      component: "kwok",
      timeoutMs: 60_000,
    });
  });
}

function pidsOf(stateDir: string): Record<string, number> {
  const pids: Record<string, number> = {};
  for (const c of COMPONENTS) {
    const pid = runningPid(stateDir, c);
    if (pid !== undefined) pids[c] = pid;
  }
  return pids;
}

/** Brings the cluster up (or converges a running one) and returns how to reach it. */
export async function startCluster(opts: ClusterOptions): Promise<ClusterInfo> {
  const scenario = validateOptions(opts);
  const name = opts.name ?? "default";
  const log = opts.log ?? ((): void => undefined);
  const stateDir = stateDirFor(name);
  const tools = locateTools();
  const missing = missingTools(tools);
  if (missing.length > 0) {
    throw new UsageError(
      `missing binaries (${missing.join(", ")}): run scripts/cluster/ensure-tools.sh first`,
    );
  }
  const kubeconfig = join(stateDir, "kubeconfig");
  const previous = readState(stateDir);
  let reuse = previous !== undefined && allRunning(stateDir);
  if (reuse && previous !== undefined && previous.scenario !== scenario.name) {
    log(`cluster "${name}" runs scenario ${previous.scenario}; recreating it for ${scenario.name}`);
    reuse = false;
  }
  if (reuse && previous !== undefined) {
    const api = new ApiClient(previous.ports.apiserver, pkiPaths(stateDir));
    reuse = await apiReady(api).catch(() => false);
    api.close();
  }
  if (!reuse) {
    await step(log, "clean previous state", async () => {
      await stopAll(stateDir);
      rmSync(stateDir, { recursive: true, force: true });
    });
  }
  mkdirSync(stateDir, { recursive: true });
  const ports = reuse && previous !== undefined ? previous.ports : await allocatePorts();
  const pki = await step(log, "pki", () => ensurePki(stateDir));
  writeKubeconfig(kubeconfig, pki, ports.apiserver, (f) => readFileSync(f));
  const ctx: Context = { stateDir, tools, pki, ports, kubeconfig, log };

  const withCalico = scenario.name !== NODES_ONLY;
  const plans = planNodes(scenario, opts.nodes);
  const hot = withCalico ? hotNodeCount(scenario, opts.nodes) : 0;
  const nodesChanged = previous?.nodes !== opts.nodes;

  if (withCalico)
    await step(log, `pod log files (${plans.length} nodes)`, () =>
      writePodLogs(stateDir, scenario, plans, hot),
    );
  writeFileSync(
    join(stateDir, "kwok.yaml"),
    kwokConfig(stateDir, withCalico ? scenario : undefined, plans, hot),
  );
  writeFileSync(
    join(stateDir, "node-ips.json"),
    JSON.stringify(Object.fromEntries(plans.map((p) => [p.ip, p.name]))),
  );
  writeFileSync(
    join(stateDir, "state.json"),
    JSON.stringify({ scenario: scenario.name, nodes: opts.nodes, ports } satisfies StateFile),
  );

  let api: ApiClient;
  if (reuse) {
    api = new ApiClient(ports.apiserver, pki);
    if (nodesChanged) {
      // kwok reads its log and metric rules once at start; restart it to pick up the new node set.
      await step(log, "restart kwok for new node set", async () => {
        await stopComponent(stateDir, "kwok");
        startComponent(stateDir, kwokSpec(tools, stateDir, kubeconfig, ports));
        await waitUntil("kwok", () => tcpOpen(ports.kwok), {
          stateDir,
          component: "kwok",
          timeoutMs: 30_000,
        });
      });
    }
  } else {
    api = await startControlPlane(ctx);
    await startNodeSide(ctx);
  }
  try {
    await step(log, "service accounts ready", () => waitForServiceAccounts(ctx, api));
    if (withCalico) {
      await step(log, "calico CRDs and objects", async () => {
        // A flannel-only cluster serves no Calico CRDs: the scan must meet their absence.
        if (scenario.withoutCalico !== true) {
          await applyAll(api, calicoCrds());
          await waitForCrds(api);
        }
        await applyAll(api, calicoObjects(scenario));
      });
    }
    await step(log, `create ${opts.nodes} nodes`, () => reconcileNodes(api, scenario, plans));
    await step(log, `${opts.nodes} nodes Ready`, () => waitForNodes(ctx, api, opts.nodes));
    if (withCalico && opts.waitForPods !== false) {
      await step(log, `${scenario.daemonSet.name} DaemonSet rolled out`, async () => {
        await applyAll(api, daemonSetObjects(scenario, opts.nodes));
        await waitForDaemonSet(ctx, api, scenario, opts.nodes);
      });
      await step(log, "resource metrics served", () => warmMetrics(ctx, plans));
    } else if (withCalico) {
      await applyAll(api, daemonSetObjects(scenario, opts.nodes));
    }
  } finally {
    api.close();
  }
  return {
    name,
    scenario: scenario.name,
    nodes: opts.nodes,
    stateDir,
    kubeconfig,
    apiserverPort: ports.apiserver,
    kwokPort: ports.kwok,
    pids: pidsOf(stateDir),
    hotNodes: plans.slice(0, hot).map((p) => p.name),
    daemonSet: withCalico
      ? { namespace: scenario.daemonSet.namespace, name: scenario.daemonSet.name }
      : undefined,
  };
}

/** Stops every component and removes the state dir; fine when nothing runs. */
export async function stopCluster(opts: { name?: string; log?: (line: string) => void } = {}): Promise<void> {
  const name = opts.name ?? "default";
  if (!/^[a-z0-9][a-z0-9-]{0,40}$/.test(name))
    throw new UsageError(`--name must be lowercase letters, digits and dashes, got "${name}"`);
  const stateDir = stateDirFor(name);
  const log = opts.log ?? ((): void => undefined);
  if (!existsSync(stateDir)) {
    log(`cluster "${name}" is not running`);
    return;
  }
  await step(log, `stop cluster "${name}"`, async () => {
    await stopAll(stateDir);
    rmSync(stateDir, { recursive: true, force: true });
  });
}
