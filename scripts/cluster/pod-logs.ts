// Per-node container log files in CRI format, which kwok serves as `kubectl logs`. Felix text comes
// only from the shared fixture generator (scripts/fixtures/felix-log.ts); this module decides which
// node gets which kind of log and writes the files.
import { createWriteStream, existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { once } from "node:events";
import { felixLog, toCri, type FelixLogKind } from "../fixtures/felix-log.js";
import { flannelLogEntries } from "../fixtures/flannel-log.js";
import type { NodePlan } from "./node-objects.js";
import type { Scenario } from "./scenarios.js";

export interface NodeLogFiles {
  node: string;
  calicoNode: string;
}

/** Minutes of history each calico-node log covers, ending when the cluster came up. */
const HISTORY_MINUTES = 15;

export function podLogDir(stateDir: string): string {
  return join(stateDir, "pod-logs");
}

/** The kube-flannel log every node serves, or one node's own when the scenario gives flannel a loop. */
export function flannelLogFile(stateDir: string, node?: string): string {
  return join(podLogDir(stateDir), node === undefined ? "kube-flannel.log" : `${node}.kube-flannel.log`);
}

export function calicoLogFile(stateDir: string, node: string): string {
  return join(podLogDir(stateDir), `${node}.calico-node.log`);
}

export function logKindFor(scenario: Scenario, index: number, hotCount: number): FelixLogKind {
  return index < hotCount && scenario.hotNodeLog !== undefined ? scenario.hotNodeLog : "quiet";
}

/** flanneld's own startup lines (klog, not Felix text), enough for `kubectl logs -c kube-flannel`. */
function flannelLog(at: Date): string {
  const two = (n: number): string => String(n).padStart(2, "0");
  const klog = (offsetMs: number, where: string, msg: string): string => {
    const t = new Date(at.getTime() - 15 * 60_000 + offsetMs);
    const micros = String(t.getUTCMilliseconds() * 1000).padStart(6, "0");
    const cri = t.toISOString().replace(/\.(\d{3})Z$/, ".$1000000Z");
    const head = `I${two(t.getUTCMonth() + 1)}${two(t.getUTCDate())} ${two(t.getUTCHours())}:${two(t.getUTCMinutes())}:${two(t.getUTCSeconds())}.${micros}`;
    return `${cri} stderr F ${head}       1 ${where}] ${msg}`;
  };
  return [
    klog(
      0,
      "main.go:211",
      "CLI flags config: {etcdEndpoints:http://127.0.0.1:4001 iface:[] ipMasq:true subnetFile:/run/flannel/subnet.env}",
    ),
    klog(120, "kube.go:139", "Waiting 10m0s for node controller to sync"),
    klog(900, "main.go:517", "Found network config - Backend type: vxlan"),
    "",
  ].join("\n");
}

async function writeLines(file: string, lines: Iterable<string>): Promise<void> {
  const out = createWriteStream(file);
  for (const line of lines) {
    if (!out.write(`${line}\n`)) await once(out, "drain");
  }
  out.end();
  await once(out, "finish");
}

function* criLines(
  scenario: Scenario,
  plan: NodePlan,
  kind: FelixLogKind,
  seed: number,
  end: Date,
): Generator<string> {
  const start = new Date(end.getTime() - HISTORY_MINUTES * 60_000);
  for (const line of felixLog({
    calicoVersion: scenario.calicoVersion,
    kind,
    start,
    durationSeconds: HISTORY_MINUTES * 60,
    severityScreen: scenario.severityScreen,
    nodeName: plan.name,
    seed,
  })) {
    yield toCri(line);
  }
}

/** A node's kube-flannel log in CRI form: the scenario's flannel kind on hot nodes, else start-up only. */
function* flannelCriLines(scenario: Scenario, hot: boolean, end: Date): Generator<string> {
  const image = scenario.daemonSet.containers.find((c) => c.name === "kube-flannel")?.image ?? "";
  for (const e of flannelLogEntries({
    kind: hot ? (scenario.hotFlannelLog ?? "quiet") : "quiet",
    version: image.slice(image.lastIndexOf(":") + 1),
    start: new Date(end.getTime() - HISTORY_MINUTES * 60_000),
    durationSeconds: HISTORY_MINUTES * 60,
    iface: "eth0",
  }))
    yield toCri({ time: e.time, text: e.text }, "stderr");
}

/**
 * Writes every node's calico-node log (and kube-flannel log, when the scenario gives flannel one). Files that already exist are kept, so a second `up` on a
 * running cluster serves the same logs it served before.
 */
export async function writePodLogs(
  stateDir: string,
  scenario: Scenario,
  plans: readonly NodePlan[],
  hotCount: number,
): Promise<void> {
  mkdirSync(podLogDir(stateDir), { recursive: true });
  const end = new Date();
  if (!existsSync(flannelLogFile(stateDir))) writeFileSync(flannelLogFile(stateDir), flannelLog(end));
  if (scenario.hotFlannelLog !== undefined) {
    for (const [index, plan] of plans.entries()) {
      const file = flannelLogFile(stateDir, plan.name);
      if (!existsSync(file)) await writeLines(file, flannelCriLines(scenario, index < hotCount, end));
    }
  }
  for (const [index, plan] of plans.entries()) {
    const file = calicoLogFile(stateDir, plan.name);
    if (existsSync(file)) continue;
    await writeLines(file, criLines(scenario, plan, logKindFor(scenario, index, hotCount), index + 1, end));
  }
}
