// Node facts from the agent to a live verdict through a real Prometheus (Debian's): the agent binary
// runs as the DaemonSet runs it, metrics-only, with --host-root on a directory laid out like a host
// (/proc/1/net/route, /proc/1/net/snmp, /sys/class/net/<if>/device/driver); Prometheus scrapes it;
// `cnidoctor scan --bundle … --prometheus` then reads the facts back. The node whose UDP
// InCsumErrors rise is affected, the flat one and the one without an agent stay at risk, and a
// node of another cluster reporting to the same Prometheus is ignored. No cluster is needed.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { agentArgv } from "../../src/cli/agent-launch.js";
import type { Report } from "../../src/model/finding.js";
import { startPrometheus, type RunningPrometheus } from "../../scripts/trends/prometheus.js";

const run = promisify(execFile);
const ROOT = resolve(fileURLToPath(new URL("../../..", import.meta.url)));
const CLI = join(ROOT, "dist/src/cli/bin.js");
const BUNDLE = join(ROOT, "examples/vxlan-vsphere-at-risk");
const VXLAN = "CNID-2021-0001";
/** The scan's range step for a 10m window (the collector's minimum). */
const STEP_S = 15;

const ROUTE = [
  "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT",
  "ens192\t00000000\t01001E0A\t0003\t0\t0\t100\t00000000\t0\t0\t0",
  "",
].join("\n");

function snmp(inCsumErrors: number): string {
  return [
    "Udp: InDatagrams NoPorts InErrors OutDatagrams RcvbufErrors SndbufErrors InCsumErrors IgnoredMulti MemErrors",
    `Udp: 5000 3 ${String(inCsumErrors)} 4800 0 0 ${String(inCsumErrors)} 0 0`,
    "",
  ].join("\n");
}

interface FakeHost {
  node: string;
  root: string;
  proc?: ChildProcess;
  port?: number;
  stderr: string[];
}

const work = mkdtempSync(join(tmpdir(), "it-agent-facts-"));
// esx-agt-01: errors will rise; esx-agt-02: flat; esx-srv-01 (in the bundle) runs no agent;
// esx-other-07 is another cluster's node scraped by the same Prometheus, with rising errors.
const hosts: FakeHost[] = ["esx-agt-01", "esx-agt-02", "esx-other-07"].map((node) => ({
  node,
  root: join(work, node, "host"),
  stderr: [],
}));
let prom: RunningPrometheus | undefined;

function fakeHost(h: FakeHost, inCsumErrors: number): void {
  mkdirSync(join(h.root, "proc", "1", "net"), { recursive: true });
  writeFileSync(join(h.root, "proc", "1", "net", "route"), ROUTE);
  writeFileSync(join(h.root, "proc", "1", "net", "snmp"), snmp(inCsumErrors));
  const device = join(h.root, "sys", "class", "net", "ens192", "device");
  mkdirSync(device, { recursive: true });
  symlinkSync("../../../../bus/pci/drivers/vmxnet3", join(device, "driver"));
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function startAgent(h: FakeHost): Promise<void> {
  const logs = join(work, h.node, "logs");
  const state = join(work, h.node, "state");
  mkdirSync(logs, { recursive: true });
  mkdirSync(state, { recursive: true });
  h.proc = spawn(
    process.execPath,
    agentArgv([
      `--node-name=${h.node}`,
      `--log-root=${logs}`,
      `--state-dir=${state}`,
      "--listen=127.0.0.1:0",
      "--metrics-only",
      `--host-root=${h.root}`,
      "--facts-interval=1s",
      "--poll-interval=250ms",
    ]),
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  h.proc.stderr?.on("data", (d: Buffer) => h.stderr.push(d.toString()));
  h.port = await waitFor(`agent on ${h.node} to listen`, () => {
    const m = /metrics on http:\/\/127\.0\.0\.1:(\d+)\/metrics/.exec(h.stderr.join(""));
    return Promise.resolve(m ? Number(m[1]) : undefined);
  });
}

async function promValue(query: string): Promise<Record<string, number>> {
  assert.ok(prom);
  const res = await fetch(`${prom.url}/api/v1/query?query=${encodeURIComponent(query)}`);
  const body = (await res.json()) as {
    data: { result: { metric: Record<string, string>; value: [number, string] }[] };
  };
  return Object.fromEntries(body.data.result.map((r) => [r.metric.node ?? "", Number(r.value[1])]));
}

/** Resolves once Prometheus holds `value` for every node given. */
function untilScraped(metric: string, want: Record<string, number>): Promise<true> {
  return waitFor(`${metric} ${JSON.stringify(want)} in Prometheus`, async () => {
    const got = await promValue(metric);
    return Object.entries(want).every(([n, v]) => got[n] === v) ? true : undefined;
  });
}

before(
  async () => {
    for (const h of hosts) {
      fakeHost(h, h.node === "esx-agt-02" ? 96 : 412);
      await startAgent(h);
    }
    prom = await startPrometheus(join(work, "prometheus"), join(work, "prometheus", "data"), 60_000, {
      job: "cnidoctor-agent",
      targets: hosts.map((h) => `127.0.0.1:${String(h.port)}`),
      intervalSeconds: 1,
    });
  },
  { timeout: 120_000 },
);

after(async () => {
  for (const h of hosts) {
    if (h.proc && h.proc.exitCode === null && h.proc.signalCode === null) {
      const exited = new Promise((r) => h.proc?.once("exit", r));
      h.proc.kill("SIGTERM");
      await exited;
    }
  }
  await prom?.stop();
  rmSync(work, { recursive: true, force: true });
});

test(
  "scan --bundle --prometheus: affected where the agent's UDP InCsumErrors rose, at risk elsewhere",
  { timeout: 180_000 },
  async () => {
    const counter = "cnidoctor_node_udp_in_csum_errors_total";
    await untilScraped(counter, { "esx-agt-01": 412, "esx-agt-02": 96, "esx-other-07": 412 });
    // The flat readings must span more than one step of the scan's range query.
    await new Promise((r) => setTimeout(r, (STEP_S + 5) * 1000));
    for (const h of hosts)
      if (h.node !== "esx-agt-02") writeFileSync(join(h.root, "proc", "1", "net", "snmp"), snmp(1187));
    await untilScraped(counter, { "esx-agt-01": 1187, "esx-other-07": 1187 });
    // The scan's range query ends at its start time in whole seconds: a scan started within the
    // second of the rising sample would end just before it. Let that second pass.
    await new Promise((r) => setTimeout(r, 2000));
    const nic = await promValue('cnidoctor_node_nic_info{interface="ens192",driver="vmxnet3"}');
    assert.deepEqual(Object.keys(nic).sort(), ["esx-agt-01", "esx-agt-02", "esx-other-07"]);

    assert.ok(prom);
    let stdout = "";
    let code = 0;
    try {
      ({ stdout } = await run(
        "node",
        [CLI, "scan", "--bundle", BUNDLE, "--prometheus", prom.url, "--window", "10m", "-o", "json"],
        { maxBuffer: 64 * 1024 * 1024, env: { ...process.env, NO_COLOR: "1" } },
      ));
    } catch (e) {
      const err = e as { stdout?: string; code?: unknown };
      if (typeof err.code !== "number") throw e;
      ({ stdout = "", code } = { stdout: err.stdout, code: err.code });
    }
    assert.equal(code, 3, "affected and at risk");
    const report = JSON.parse(stdout) as Report;
    const verdicts = report.verdicts.find((g) => g.advisoryId === VXLAN)?.verdicts ?? [];
    assert.deepEqual(
      verdicts.map((v) => [v.subject, v.status]),
      [
        ["esx-agt-01", "affected"],
        ["esx-agt-02", "at-risk"],
        ["esx-srv-01", "at-risk"],
      ],
      verdicts.map((v) => `${v.subject}: ${v.reasons.join(" | ")}`).join("\n"),
    );
    const hot = verdicts[0];
    assert.match(
      hot?.reasons.join("\n") ?? "",
      /corroborated by checksum-errors-seen: .*UDP InCsumErrors rose by 775 from 412 to 1187 \(read by the node agent, from Prometheus at \d{4}-\d\d-\d\dT/,
    );
    const rising = hot?.evidence.find((e) => e.data?.condition === "udp-checksum-errors-rising");
    assert.match(
      rising?.source ?? "",
      new RegExp(
        `^Prometheus ${prom.url} cnidoctor_node_udp_in_csum_errors_total\\{node="esx-agt-01"\\} over `,
      ),
    );
    const driver = hot?.evidence.find((e) => e.data?.condition === "vmxnet3-nic");
    assert.equal(driver?.data?.holds, true);
    assert.match(
      verdicts[1]?.reasons.join("\n") ?? "",
      /udp-checksum-errors-rising \(not seen: UDP InCsumErrors did not rise from 96 to 96/,
    );
    // The agent reads no kernel log here (no /dev/kmsg under the host root) and says so.
    assert.match(
      verdicts[1]?.reasons.join("\n") ?? "",
      /udp-bad-checksum-log \(not read: the kernel log was not read by the agent: the node agent on esx-agt-02 could not read the kernel log/,
    );
    assert.match(
      verdicts[2]?.reasons.join("\n") ?? "",
      /no cnidoctor_agent_up series for node esx-srv-01 .*to read them: have Prometheus scrape the node agent/,
    );
    // esx-other-07 is not in the cluster: only esx-srv-01 is counted as lacking facts.
    const gap = report.coverage.find((c) => c.check === "node-agent");
    assert.match(
      gap?.reason ?? "",
      /no node facts for 1 of 3 node\(s\) in the last 10m: no node agent scraped on esx-srv-01/,
    );
  },
);
