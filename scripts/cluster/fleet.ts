// Several harness clusters at once, with the kubeconfig a Rancher admin downloads for them: one
// context per downstream cluster (its own cluster, user and context entries, all named after the
// cluster), plus one context whose credentials every apiserver refuses. Each member is an ordinary
// named cluster (cluster.ts), so its processes are tracked in its own state dir; the fleet's state
// dir only records which members it started, so `fleet down` (or a test's teardown) stops them all.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parse as parseYaml, stringify as toYaml } from "yaml";
import {
  startCluster,
  stateDirFor,
  stopCluster,
  UsageError,
  validateOptions,
  type ClusterInfo,
} from "./cluster.js";
import { killComponentsNow, signalComponents } from "./processes.js";

export interface FleetMember {
  /** Harness cluster name, and the context's name in the merged kubeconfig. */
  name: string;
  scenario: string;
  nodes: number;
}

export interface FleetOptions {
  members: readonly FleetMember[];
  /** Distinguishes fleets; the fleet's state dir is /dev/shm/cnidoctor-fleet-<name>. */
  name?: string;
  /** How many members start at once (default: all). */
  concurrency?: number;
  log?: (line: string) => void;
}

export interface FleetInfo {
  name: string;
  stateDir: string;
  /** The merged kubeconfig: one context per member plus REFUSED_CONTEXT. */
  kubeconfig: string;
  clusters: ClusterInfo[];
  /** The context whose bearer token every apiserver answers with 401. */
  refusedContext: string;
  /** The member the refused context points at (a running apiserver, so the refusal is real). */
  refusedTarget: string;
}

export const REFUSED_CONTEXT = "refused";

/** What Rancher's kubeconfig tokens look like (`kubeconfig-user-<id>:<secret>`); no apiserver knows it. */
const REFUSED_TOKEN = "kubeconfig-user-fleet0:refusedrefusedrefusedrefusedrefusedrefusedrefused";

export function fleetStateDir(name: string): string {
  return stateDirFor(name).replace("/cnidoctor-cluster-", "/cnidoctor-fleet-");
}

/** Parses `name:scenario:nodes,...`; every problem is a UsageError naming the bad part. */
export function parseFleetSpec(text: string): FleetMember[] {
  const members = text
    .split(",")
    .map((part) => part.trim())
    .filter((part) => part !== "")
    .map((part) => {
      const fields = part.split(":");
      const [name, scenario, nodes] = fields;
      if (fields.length !== 3 || name === undefined || scenario === undefined || nodes === undefined)
        throw new UsageError(`--clusters: "${part}" is not name:scenario:nodes`);
      if (!/^\d+$/.test(nodes)) throw new UsageError(`--clusters: "${part}": nodes must be an integer`);
      const member = { name, scenario, nodes: Number(nodes) };
      validateOptions(member);
      return member;
    });
  if (members.length === 0) throw new UsageError("--clusters: no cluster given");
  const names = new Set<string>();
  for (const m of members) {
    if (m.name === REFUSED_CONTEXT)
      throw new UsageError(`--clusters: "${REFUSED_CONTEXT}" is the refused context's name`);
    if (names.has(m.name)) throw new UsageError(`--clusters: "${m.name}" appears twice`);
    names.add(m.name);
  }
  return members;
}

interface KubeconfigDoc {
  clusters: { name: string; cluster: Record<string, unknown> }[];
  users: { name: string; user: Record<string, unknown> }[];
}

/**
 * The merged kubeconfig. Each member's own kubeconfig (admin client certificate) becomes one
 * cluster/user/context triple named after the member; the refused context reuses a running
 * member's server and CA with a bearer token no apiserver accepts.
 */
export function mergedKubeconfig(
  members: readonly { name: string; kubeconfig: KubeconfigDoc }[],
  refusedTarget: string,
): string {
  const clusters: { name: string; cluster: Record<string, unknown> }[] = [];
  const users: { name: string; user: Record<string, unknown> }[] = [];
  const contexts: { name: string; context: { cluster: string; user: string } }[] = [];
  for (const m of members) {
    const cluster = m.kubeconfig.clusters[0];
    const user = m.kubeconfig.users[0];
    if (cluster === undefined || user === undefined)
      throw new Error(`${m.name}: kubeconfig without a cluster`);
    clusters.push({ name: m.name, cluster: cluster.cluster });
    users.push({ name: m.name, user: user.user });
    contexts.push({ name: m.name, context: { cluster: m.name, user: m.name } });
  }
  if (!members.some((m) => m.name === refusedTarget)) throw new Error(`no member "${refusedTarget}"`);
  users.push({ name: REFUSED_CONTEXT, user: { token: REFUSED_TOKEN } });
  contexts.push({ name: REFUSED_CONTEXT, context: { cluster: refusedTarget, user: REFUSED_CONTEXT } });
  const first = members[0];
  return toYaml({
    apiVersion: "v1",
    kind: "Config",
    clusters,
    users,
    contexts,
    "current-context": first?.name ?? REFUSED_CONTEXT,
  });
}

interface FleetState {
  members: FleetMember[];
}

function readFleetState(stateDir: string): FleetState | undefined {
  const file = join(stateDir, "fleet.json");
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, "utf8")) as FleetState;
  } catch {
    return undefined;
  }
}

/** Runs `fn` over `items` with at most `limit` at once, keeping every outcome (none is dropped). */
async function settleBounded<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<PromiseSettledResult<R>[]> {
  const results: PromiseSettledResult<R>[] = new Array<PromiseSettledResult<R>>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      const item = items[i] as T;
      try {
        results[i] = { status: "fulfilled", value: await fn(item) };
      } catch (reason: unknown) {
        results[i] = { status: "rejected", reason };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return results;
}

/**
 * Starts every member (converging ones already running, like `cluster:up`) and writes the merged
 * kubeconfig. When any member fails, every member is stopped before the first error is thrown, so
 * a failed `up` leaves no process behind.
 */
export async function startFleet(opts: FleetOptions): Promise<FleetInfo> {
  const name = opts.name ?? "fleet";
  if (!/^[a-z0-9][a-z0-9-]{0,40}$/.test(name))
    throw new UsageError(`--name must be lowercase letters, digits and dashes, got "${name}"`);
  const members = [...opts.members];
  if (members.length === 0) throw new UsageError("a fleet needs at least one cluster");
  for (const m of members) validateOptions(m);
  const log = opts.log ?? ((): void => undefined);
  const stateDir = fleetStateDir(name);
  // Members of an earlier fleet under this name that this one drops are stopped, not orphaned.
  const previous = readFleetState(stateDir);
  const wanted = new Set(members.map((m) => m.name));
  for (const old of previous?.members ?? [])
    if (!wanted.has(old.name)) await stopCluster({ name: old.name, log });
  mkdirSync(stateDir, { recursive: true });
  // Recorded before anything starts, so a crash mid-way still lets `fleet down` find every member.
  writeFileSync(join(stateDir, "fleet.json"), JSON.stringify({ members } satisfies FleetState));

  const results = await settleBounded(members, opts.concurrency ?? members.length, (m) =>
    startCluster({ ...m, log: (line) => log(`${m.name}: ${line}`) }),
  );
  const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
  if (failed !== undefined) {
    await stopFleet({ name, log });
    throw failed.reason;
  }
  const clusters = results.map((r) => (r as PromiseFulfilledResult<ClusterInfo>).value);
  const refusedTarget = members[0]?.name ?? "";
  const kubeconfig = join(stateDir, "kubeconfig");
  writeFileSync(
    kubeconfig,
    mergedKubeconfig(
      clusters.map((c) => ({
        name: c.name,
        kubeconfig: parseKubeconfig(readFileSync(c.kubeconfig, "utf8")),
      })),
      refusedTarget,
    ),
    { mode: 0o600 },
  );
  return { name, stateDir, kubeconfig, clusters, refusedContext: REFUSED_CONTEXT, refusedTarget };
}

function parseKubeconfig(text: string): KubeconfigDoc {
  return parseYaml(text) as KubeconfigDoc;
}

/** Stops every member the fleet recorded and removes its state dir; fine when nothing runs. */
export async function stopFleet(opts: { name?: string; log?: (line: string) => void } = {}): Promise<void> {
  const name = opts.name ?? "fleet";
  if (!/^[a-z0-9][a-z0-9-]{0,40}$/.test(name))
    throw new UsageError(`--name must be lowercase letters, digits and dashes, got "${name}"`);
  const stateDir = fleetStateDir(name);
  const state = readFleetState(stateDir);
  if (state === undefined) {
    opts.log?.(`fleet "${name}" is not running`);
    rmSync(stateDir, { recursive: true, force: true });
    return;
  }
  // A member whose apiserver a test SIGSTOPped still stops: SIGTERM is queued while stopped, and
  // stopComponent's SIGKILL after the grace period ends it regardless. SIGCONT first saves the wait.
  for (const m of state.members) signalComponents(stateDirFor(m.name), "SIGCONT");
  await Promise.all(state.members.map((m) => stopCluster({ name: m.name, log: opts.log })));
  rmSync(stateDir, { recursive: true, force: true });
}

/** SIGKILLs every member's processes at once: for a test process stopped by a signal. */
export function killFleetNow(name = "fleet"): void {
  const state = readFleetState(fleetStateDir(name));
  for (const m of state?.members ?? []) killComponentsNow(stateDirFor(m.name));
}
