// The fleet scan (issue 20) against three harness clusters of different scenarios in one
// Rancher-style merged kubeconfig, plus a context whose token every apiserver refuses. One
// cluster's apiserver is SIGSTOPped during the fleet scan, at the scan's first request to it (a
// proxy in front of it freezes the real server there, however slow the machine is). Asserted:
//   - each healthy cluster's `report` in the fleet JSON is what `scan --context X -o json` gives
//     alone (the generation time masked), and its summary row agrees with that report;
//   - the stopped cluster is a gap (timeout/unreachable), the refused one a gap
//     (credentials/forbidden), and neither changed the others' results;
//   - the exit code is the worst across clusters (3 > 4 > 0);
//   - the stopped cluster cost its deadline and nothing more: the scan ended, and the stopped
//     cluster's gap says it timed out.
// The apiserver always gets SIGCONT, and the suite always stops every cluster it started.
// Needs scripts/cluster/ensure-tools.sh.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli, type Run } from "./support/run-cli.js";
import { parse as parseYaml, stringify as toYaml } from "yaml";
import { killFleetNow, startFleet, stopFleet, type FleetInfo } from "../../scripts/cluster/fleet.js";
import { startFreezeProxy, type FreezeProxy } from "./support/freeze-proxy.js";
import { fleetExitCode, maskVolatile, type FleetJson } from "./support/fleet.js";

const FLEET = "it-fleet";
const MEMBERS = [
  { name: "it-fleet-rke1", scenario: "rke1-canal-affected", nodes: 30 },
  { name: "it-fleet-xdpoff", scenario: "rke2-canal-xdp-off", nodes: 20 },
  { name: "it-fleet-calico", scenario: "rke2-calico-at-risk", nodes: 20 },
] as const;
const STOPPED = "it-fleet-calico";
const HEALTHY = MEMBERS.map((m) => m.name).filter((n) => n !== STOPPED);
/** The bounds every scan here runs with: the stopped cluster costs at most --timeout. */
const REQUEST_TIMEOUT_S = 5;
const TIMEOUT_S = 30;
const BOUNDS = ["--request-timeout", `${REQUEST_TIMEOUT_S}s`, "--timeout", `${TIMEOUT_S}s`];

let fleet: FleetInfo | undefined;
const work = mkdtempSync(join(tmpdir(), "it-fleet-"));

/** Runs the CLI as a user would; past `hardMs` it is killed and the test fails with what it printed. */
function run(args: string[], hardMs: number): Promise<Run> {
  return runCli(args, hardMs);
}

function parseJson(r: Run, what: string): unknown {
  try {
    return JSON.parse(r.stdout) as unknown;
  } catch {
    throw new Error(
      `${what}: not JSON (exit ${String(r.code)}): ${r.stdout.slice(0, 300)} ${r.stderr.slice(0, 800)}`,
    );
  }
}

/**
 * The fleet's kubeconfig with the stopped member's context sent through `proxyUrl` (plain HTTP on
 * loopback; the proxy authenticates upstream with the admin certificate).
 */
function withProxiedMember(kubeconfig: string, member: string, proxyUrl: string, path: string): string {
  const doc = parseYaml(readFileSync(kubeconfig, "utf8")) as {
    clusters: { name: string; cluster: Record<string, unknown> }[];
    users: { name: string; user: Record<string, unknown> }[];
  };
  for (const c of doc.clusters)
    if (c.name === member) c.cluster = { server: proxyUrl, "insecure-skip-tls-verify": true };
  for (const u of doc.users) if (u.name === member) u.user = {};
  writeFileSync(path, toYaml(doc), { mode: 0o600 });
  return path;
}

const onSignal = (signal: NodeJS.Signals): void => {
  killFleetNow(FLEET);
  process.exit(signal === "SIGINT" ? 130 : 143);
};

before(
  async () => {
    process.once("SIGINT", onSignal);
    process.once("SIGTERM", onSignal);
    fleet = await startFleet({ members: MEMBERS, name: FLEET });
  },
  { timeout: 400_000 },
);

after(
  async () => {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    // stopFleet sends SIGCONT first, so a still-stopped apiserver ends at once.
    await stopFleet({ name: FLEET });
  },
  { timeout: 90_000 },
);

describe("fleet scan over a Rancher-style merged kubeconfig", { timeout: 600_000 }, () => {
  test("healthy clusters as scanned alone, the stopped and the refused ones as gaps, worst exit code", async () => {
    assert.ok(fleet);
    const alone = new Map<string, { code: number | null; report: unknown }>();
    for (const name of HEALTHY) {
      const r = await run(
        ["scan", "--kubeconfig", fleet.kubeconfig, "--context", name, "-o", "json", ...BOUNDS],
        180_000,
      );
      assert.equal(r.killed, false, `scan --context ${name} hung`);
      assert.ok(r.code === 0 || r.code === 3, `scan --context ${name}: exit ${String(r.code)}: ${r.stderr}`);
      alone.set(name, { code: r.code, report: parseJson(r, `scan --context ${name}`) });
    }

    const stopped = fleet.clusters.find((c) => c.name === STOPPED);
    const pid = stopped?.pids["kube-apiserver"];
    assert.ok(stopped !== undefined && pid !== undefined, "the stopped member has an apiserver");
    let proxy: FreezeProxy | undefined;
    let r: Run;
    try {
      proxy = await startFreezeProxy({
        stateDir: stopped.stateDir,
        apiserverPort: stopped.apiserverPort,
        apiserverPid: pid,
        // The scan's first request to that cluster, whatever it is.
        freezeAt: () => true,
      });
      const kubeconfig = withProxiedMember(
        fleet.kubeconfig,
        STOPPED,
        proxy.url,
        join(work, "fleet.kubeconfig"),
      );
      r = await run(["scan", "--kubeconfig", kubeconfig, "--all-contexts", "-o", "json", ...BOUNDS], 240_000);
    } finally {
      await proxy?.close();
    }
    console.log(
      `# fleet scan: exit ${String(r.code)} after ${r.ms} ms (--request-timeout ${REQUEST_TIMEOUT_S}s, --timeout ${TIMEOUT_S}s)`,
    );
    assert.equal(r.killed, false, `the fleet scan hung: ${r.stderr}`);
    assert.ok(proxy.frozenAt !== undefined, "the fleet scan never reached the stopped cluster");
    const out = parseJson(r, "fleet scan") as FleetJson;
    for (const c of out.clusters)
      if (c.gap !== undefined) console.log(`# ${c.context}: gap ${c.gap.reason}: ${c.gap.message}`);

    assert.equal(out.schemaVersion, 1);
    assert.equal(out.kind, "fleet");
    const contexts = out.clusters.map((c) => c.context);
    assert.deepEqual(contexts, [...contexts].sort(), "clusters sorted by context");
    assert.deepEqual([...contexts].sort(), [...MEMBERS.map((m) => m.name), fleet.refusedContext].sort());
    assert.equal(out.summary.clusters, out.clusters.length);

    for (const name of HEALTHY) {
      const c = out.clusters.find((x) => x.context === name);
      const single = alone.get(name);
      assert.ok(c !== undefined && single !== undefined);
      assert.equal(c.outcome, "scanned", `${name}: ${JSON.stringify(c.gap)}`);
      assert.equal(c.exitCode, single.code, `${name}: exit code as scanned alone`);
      assert.deepEqual(
        maskVolatile(c.report),
        maskVolatile(single.report),
        `${name}: report as scanned alone`,
      );
    }
    const rke1 = out.clusters.find((x) => x.context === "it-fleet-rke1");
    assert.equal(rke1?.summary.distribution, "rke1");
    assert.ok(
      rke1.summary.advisories.some((a) => a.affected > 0),
      `rke1-canal-affected has affected nodes: ${JSON.stringify(rke1.summary.advisories)}`,
    );

    const frozen = out.clusters.find((x) => x.context === STOPPED);
    assert.equal(frozen?.outcome, "gap", JSON.stringify(frozen?.summary));
    assert.ok(
      frozen.gap?.reason === "timeout" || frozen.gap?.reason === "unreachable",
      `stopped cluster: ${JSON.stringify(frozen.gap)}`,
    );
    assert.equal(frozen.report, undefined, "a gap carries no report");

    const refused = out.clusters.find((x) => x.context === fleet?.refusedContext);
    assert.equal(refused?.outcome, "gap", JSON.stringify(refused?.summary));
    assert.ok(
      refused.gap?.reason === "credentials" || refused.gap?.reason === "forbidden",
      `refused context: ${JSON.stringify(refused.gap)}`,
    );

    assert.equal(out.summary.worstExitCode, fleetExitCode(out.clusters.map((c) => c.exitCode)));
    assert.equal(r.code, out.summary.worstExitCode, r.stderr);
    assert.equal(r.code, 3, "rke1-canal-affected makes the fleet exit 3");

    // A loose bound only (the structural one is the gap reason above): the stopped cluster costs its
    // --timeout, not the sum of every request's retries, and the others run alongside it.
    assert.ok(r.ms < (TIMEOUT_S + 60) * 1000, `the fleet scan took ${r.ms} ms`);
  });
});
