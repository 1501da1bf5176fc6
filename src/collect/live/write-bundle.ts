// `cnidoctor collect`: writes what a live scan reads as a bundle that `scan --bundle` reads — the
// `kubectl cluster-info dump` layout (nodes.json, <ns>/daemonsets.json, <ns>/pods.json,
// <ns>/<pod>/logs.txt with START/END blocks) plus felixconfigurations.json and
// clusterinformations.json. Logs are bounded like the scan's and streamed to disk. Everything is
// written into a temporary sibling directory that is renamed into place only when complete; an
// earlier bundle (recognised by its marker file, never anything else) is renamed aside first and
// deleted last, so a kill at any point leaves the old bundle or the new one, never neither.

import type { ObjectNeeds } from "../object-needs.js";
import { createWriteStream } from "node:fs";
import { mkdir, readdir, rename, rm, stat, writeFile } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { once } from "node:events";
import type { Gap } from "../../model/provenance.js";
import { InputError, UsageError } from "../../errors.js";
import { syncDir } from "../../io/durability.js";
import { HOST_TAG, makerGone, OWNER_PATTERN, ownerTag, type Cleanup } from "../../io/leftovers.js";
import { metaOf } from "../k8s-objects.js";
import { FLANNEL_CONTAINER } from "../../versions/index.js";
import type { KubeClient, Obj } from "../../kube/client.js";
import { nothingRead, readInventory, type RawInventory } from "./inventory.js";
import { openLog, type LogBounds, type PodLogTarget } from "./logs.js";
import { runPool } from "./pool.js";

export interface BundleWriteOptions {
  container: string;
  /** Further containers whose logs the advisories read, written as their own blocks where pods run them. */
  logContainers?: readonly string[];
  bounds: LogBounds;
  concurrency: number;
  nodeSelector?: string;
  force: boolean;
  now: Date;
  progress?: (done: number, total: number) => void;
  /** What was cleared of a killed earlier collect into the same directory. */
  onCleanup?: (c: Cleanup) => void;
  /** Objects the advisories' conditions read beyond the Calico install (named ConfigMaps, IPPools). */
  needs?: ObjectNeeds;
}

export interface BundleWriteResult {
  dir: string;
  nodes: number;
  pods: number;
  logBytes: number;
  gaps: Gap[];
}

function list(kind: string, items: readonly Obj[]): string {
  return `${JSON.stringify({ kind, apiVersion: "v1", metadata: {}, items }, null, 1)}\n`;
}

/** Written last into every bundle: what marks a directory as one that --force may replace. */
export const BUNDLE_MARKER = "cnidoctor-collect.json";

/** The earlier bundle while the new one is renamed in: `.<dir>.cnidoctor-old-<pid>.<host>`. */
const asideName = (dir: string): string =>
  join(dirname(dir), `.${basename(dir)}.cnidoctor-old-${ownerTag()}`);
/** The new bundle while it is written: `.<dir>.cnidoctor-new-<pid>.<host>-<ms>`. */
const tmpName = (dir: string): string =>
  join(dirname(dir), `.${basename(dir)}.cnidoctor-new-${ownerTag()}-${Date.now()}`);

const escape = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

async function isBundle(dir: string): Promise<boolean> {
  return exists(join(dir, BUNDLE_MARKER));
}

/**
 * Finishes what a killed collect into `dir` left, touching only its own hidden siblings whose
 * maker ran on this host and is gone: an earlier bundle renamed aside with nothing in its place
 * goes back; one left aside after the new bundle was renamed in is deleted (kept, and said so,
 * when what now stands at `dir` is not a bundle); a half-written new bundle is deleted.
 * `.<dir>.cnidoctor-old` without a maker (earlier versions) is treated the same way.
 */
export async function recoverInterrupted(outDir: string): Promise<Cleanup> {
  const dir = resolve(outDir);
  const parent = dirname(dir);
  const base = escape(basename(dir));
  const aside = new RegExp(String.raw`^\.${base}\.cnidoctor-old(?:-${OWNER_PATTERN})?$`);
  const fresh = new RegExp(String.raw`^\.${base}\.cnidoctor-new-(\d+)(?:\.([0-9a-f]{8}))?-\d+$`);
  const out: Cleanup = { removed: [], notes: [] };
  for (const name of await readdir(parent).catch(() => [] as string[])) {
    const path = join(parent, name);
    const old = aside.exec(name);
    if (old !== null) {
      if (old[1] !== undefined && !makerGone(Number(old[1]), old[2] ?? "")) continue;
      if (!(await isBundle(path))) continue;
      if (!(await exists(dir))) {
        await rename(path, dir);
        out.notes.push(`put back ${dir} (the earlier bundle a killed collect had moved aside to ${path})`);
      } else if (await isBundle(dir)) {
        await rm(path, { recursive: true, force: true });
        out.removed.push(path);
      } else
        out.notes.push(
          `kept ${path}: an earlier bundle a killed collect had moved aside; ${dir} is not a bundle now, so it was not put back`,
        );
      continue;
    }
    const tmp = fresh.exec(name);
    if (tmp === null) continue;
    // Earlier versions named only the PID: such a directory is this host's (it sits beside --output-dir).
    const pid = Number(tmp[1]);
    const gone = tmp[2] !== undefined ? makerGone(pid, tmp[2]) : makerGone(pid, HOST_TAG);
    if (!gone) continue;
    await rm(path, { recursive: true, force: true });
    out.removed.push(path);
  }
  return out;
}

/** Refuses a non-empty directory without --force, and with it anything but an earlier bundle. */
async function checkDestination(dir: string, force: boolean): Promise<"absent" | "empty" | "replace"> {
  const st = await stat(dir).catch(() => undefined);
  if (!st) return "absent";
  if (!st.isDirectory()) throw new InputError(dir, "exists and is not a directory");
  const entries = await readdir(dir);
  if (entries.length === 0) return "empty";
  if (!force)
    throw new UsageError(`collect: ${dir} is not empty (pass --force to replace an earlier bundle)`);
  if (!entries.includes(BUNDLE_MARKER))
    throw new UsageError(
      `collect: ${dir} is not a cnidoctor bundle (no ${BUNDLE_MARKER}); --force only replaces earlier bundles — choose another --output-dir`,
    );
  return "replace";
}

/** Puts the finished bundle in place of `dir`; the earlier one is removed only once the new one is there. */
async function swapIn(tmp: string, dir: string, state: "absent" | "empty" | "replace"): Promise<void> {
  const aside = asideName(dir);
  if (state === "replace") await rename(dir, aside);
  await rename(tmp, dir);
  await syncDir(dirname(dir));
  if (state === "replace") await rm(aside, { recursive: true, force: true });
}

async function writeStream(path: string, parts: AsyncIterable<string | Uint8Array>): Promise<number> {
  const out = createWriteStream(path);
  let bytes = 0;
  try {
    for await (const part of parts) {
      bytes += typeof part === "string" ? Buffer.byteLength(part) : part.length;
      if (!out.write(part)) await once(out, "drain");
    }
  } finally {
    out.end();
    await once(out, "close");
  }
  return bytes;
}

/**
 * One cluster-info style block: previous container's log (when restarted), then the current one.
 * The previous log is read for the main container only (the restart count is its own).
 */
async function* logBlock(
  client: KubeClient,
  t: PodLogTarget,
  opts: BundleWriteOptions,
  gaps: Gap[],
  container = t.container ?? opts.container,
): AsyncGenerator<string | Uint8Array> {
  const label = `container ${container} of pod ${t.namespace}/${t.pod}`;
  yield `==== START logs for ${label} ====\n`;
  let endsWithNewline = true;
  const copy = async function* (stream: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
    for await (const chunk of stream) {
      if (chunk.length > 0) endsWithNewline = chunk[chunk.length - 1] === 10;
      yield chunk;
    }
  };
  if (t.restartCount > 0 && container === (t.container ?? opts.container)) {
    const prev = await openLog(client, t, container, opts.bounds, true);
    if (prev.ok) yield* copy(prev.value);
    if (!endsWithNewline) yield "\n";
    endsWithNewline = true;
  }
  const current = await openLog(client, t, container, opts.bounds, false);
  if (current.ok) {
    try {
      yield* copy(current.value);
    } catch (e) {
      gaps.push({
        check: "logs",
        reason: `${t.namespace}/${t.pod}: log stream cut (${(e as Error).message})`,
        subject: t.node ?? `${t.namespace}/${t.pod}`,
      });
    }
  } else {
    // The same line kubectl cluster-info dump writes, which the bundle reader turns into a gap.
    yield `Request log error: ${current.problem}\n`;
    gaps.push({ check: "logs", reason: current.problem, subject: t.node ?? `${t.namespace}/${t.pod}` });
    endsWithNewline = true;
  }
  if (!endsWithNewline) yield "\n";
  yield `==== END logs for ${label} ====\n`;
}

/** The main container's block, then one per further container the pod runs. */
async function* podLogBlocks(
  client: KubeClient,
  t: PodLogTarget,
  opts: BundleWriteOptions,
  gaps: Gap[],
): AsyncGenerator<string | Uint8Array> {
  yield* logBlock(client, t, opts, gaps);
  for (const other of t.others ?? []) yield* logBlock(client, t, opts, gaps, other);
}

function podTargets(inv: RawInventory, container: string, others: readonly string[]): PodLogTarget[] {
  return (inv.pods ?? []).map((p) => {
    const meta = metaOf(p);
    const spec = (p.spec ?? {}) as { nodeName?: unknown; containers?: unknown };
    const statuses = ((p.status ?? {}) as { containerStatuses?: unknown }).containerStatuses;
    const names = Array.isArray(spec.containers) ? (spec.containers as Obj[]).map((c) => c.name) : [];
    // A flannel pod runs no calico-node: its kube-flannel is the main container.
    const main =
      !names.includes(container) && names.includes(FLANNEL_CONTAINER) ? FLANNEL_CONTAINER : container;
    const own = Array.isArray(statuses) ? (statuses as Obj[]).find((s) => s.name === main) : undefined;
    const extra = others.filter((c) => c !== main && names.includes(c));
    return {
      namespace: meta.namespace,
      pod: meta.name,
      ...(main !== container ? { container: main } : {}),
      restartCount: typeof own?.restartCount === "number" ? own.restartCount : 0,
      ...(typeof spec.nodeName === "string" ? { node: spec.nodeName } : {}),
      ...(extra.length > 0 ? { others: extra } : {}),
    };
  });
}

async function writeObjects(tmp: string, inv: RawInventory): Promise<void> {
  if (inv.nodes) await writeFile(join(tmp, "nodes.json"), list("NodeList", inv.nodes));
  for (const ns of inv.namespaces) {
    await mkdir(join(tmp, ns), { recursive: true });
    if (inv.calicoDaemonSets)
      await writeFile(
        join(tmp, ns, "daemonsets.json"),
        list(
          "DaemonSetList",
          inv.calicoDaemonSets.filter((d) => metaOf(d).namespace === ns),
        ),
      );
    if (inv.pods)
      await writeFile(
        join(tmp, ns, "pods.json"),
        list(
          "PodList",
          inv.pods.filter((p) => metaOf(p).namespace === ns),
        ),
      );
  }
  if (inv.felixConfigurations)
    await writeFile(
      join(tmp, "felixconfigurations.json"),
      list("FelixConfigurationList", inv.felixConfigurations),
    );
  if (inv.clusterInformations)
    await writeFile(
      join(tmp, "clusterinformations.json"),
      list("ClusterInformationList", inv.clusterInformations),
    );
  if (inv.ipPools) await writeFile(join(tmp, "ippools.json"), list("IPPoolList", inv.ipPools));
  // Only the named ConfigMaps the advisories read, in the namespace directory they belong to.
  for (const ns of [...new Set((inv.configMaps ?? []).map((c) => metaOf(c).namespace))]) {
    await mkdir(join(tmp, ns), { recursive: true });
    await writeFile(
      join(tmp, ns, "configmaps.json"),
      list(
        "ConfigMapList",
        (inv.configMaps ?? []).filter((c) => metaOf(c).namespace === ns),
      ),
    );
  }
}

export async function writeBundle(
  client: KubeClient,
  outDir: string,
  opts: BundleWriteOptions,
): Promise<BundleWriteResult> {
  const dir = resolve(outDir);
  const recovered = await recoverInterrupted(dir);
  if (recovered.removed.length > 0 || recovered.notes.length > 0) opts.onCleanup?.(recovered);
  const state = await checkDestination(dir, opts.force);
  const tmp = tmpName(dir);
  await mkdir(tmp, { recursive: true });
  try {
    const inv = await readInventory(client, {
      container: opts.container,
      ...(opts.needs !== undefined ? { needs: { ...opts.needs, agentFacts: false } } : {}),
      ...(opts.nodeSelector !== undefined ? { nodeSelector: opts.nodeSelector } : {}),
    });
    // Nothing read is credentials or connectivity: exit 2, and no bundle of empty files is left.
    const unread = nothingRead(inv);
    if (unread !== undefined) throw new InputError("could not read the cluster", unread);
    const gaps: Gap[] = [...inv.gaps];
    await writeObjects(tmp, inv);
    const targets = podTargets(inv, opts.container, opts.logContainers ?? []);
    let logBytes = 0;
    let done = 0;
    await runPool(targets, opts.concurrency, async (t) => {
      await mkdir(join(tmp, t.namespace, t.pod), { recursive: true });
      logBytes += await writeStream(
        join(tmp, t.namespace, t.pod, "logs.txt"),
        podLogBlocks(client, t, opts, gaps),
      );
      opts.progress?.(++done, targets.length);
    });
    await writeFile(
      join(tmp, BUNDLE_MARKER),
      `${JSON.stringify(
        { collectedAt: opts.now.toISOString(), container: opts.container, bounds: opts.bounds, gaps },
        null,
        2,
      )}\n`,
    );
    await swapIn(tmp, dir, state);
    return { dir, nodes: inv.nodes?.length ?? 0, pods: targets.length, logBytes, gaps };
  } catch (e) {
    await rm(tmp, { recursive: true, force: true });
    throw e;
  }
}
