// The real API server frozen (SIGSTOP on the harness's kube-apiserver) in the middle of a scan and
// of an apply: both must end within their deadline (--timeout, --request-timeout) with a non-zero
// exit code that says what was not read — never a hang, never a pass. A proxy in front of the
// server freezes it at the request that matters (the first pod log read; apply's real PATCH), so
// the freeze lands there however slow the machine is. An apply whose PATCH got no answer says the
// change may or may not have been made, and its backup rolls it back either way. A bad token (401)
// is "could not read the cluster", exit 2, in scan, plan and apply alike; a partial read (RBAC-like
// 403s on DaemonSets and pods) is exit 4 in all three, and apply changes nothing. The apiserver
// always gets SIGCONT, and the suite always stops its cluster. Needs scripts/cluster/ensure-tools.sh.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { runCli, type Run } from "./support/run-cli.js";
import { type ClusterInfo } from "../../scripts/cluster/cluster.js";
import { clusterForSuite } from "./support/cluster.js";
import { startFaultProxy } from "./support/fault-proxy.js";
import { startFreezeProxy, type FreezeProxy } from "./support/freeze-proxy.js";
import { kubectl, proxiedKubeconfig, tokenKubeconfig } from "./support/live.js";

// CNIDOCTOR_FREEZE_BIN runs another build (for a before/after comparison).
const BIN =
  process.env.CNIDOCTOR_FREEZE_BIN ?? fileURLToPath(new URL("../../src/cli/bin.js", import.meta.url));
const NAME = "it-live-freeze";
let cluster: ClusterInfo | undefined;

clusterForSuite({ scenario: "rke1-canal-affected", nodes: 6, name: NAME }, (info) => {
  cluster = info;
});

/** Runs the CLI; `during` is called once it started; past `hardMs` it is killed (the test fails). */
function run(args: string[], hardMs: number, during?: () => void): Promise<Run> {
  return runCli(args, hardMs, { bin: BIN, ...(during !== undefined ? { during } : {}) });
}

function apiserverPid(): number {
  const pid = cluster?.pids["kube-apiserver"];
  assert.ok(pid !== undefined, `no kube-apiserver pid: ${JSON.stringify(cluster?.pids)}`);
  return pid;
}

function freezeProxy(
  freezeAt: (method: string, path: string) => boolean,
  when: "request" | "response" = "request",
): Promise<FreezeProxy> {
  assert.ok(cluster);
  return startFreezeProxy({
    stateDir: cluster.stateDir,
    apiserverPort: cluster.apiserverPort,
    apiserverPid: apiserverPid(),
    freezeAt,
    when,
  });
}

const felixSpec = async (): Promise<string> => {
  assert.ok(cluster);
  return kubectl(cluster.kubeconfig, [
    "get",
    "felixconfigurations.crd.projectcalico.org",
    "default",
    "-o",
    "jsonpath={.spec}",
  ]);
};

test(
  "a bad token (401) is 'could not read the cluster', exit 2, in scan, plan and apply",
  { timeout: 120_000 },
  async () => {
    assert.ok(cluster);
    const work = mkdtempSync(join(tmpdir(), "it-live-freeze-"));
    const bad = tokenKubeconfig(cluster.kubeconfig, "not-a-valid-token", join(work, "bad.kubeconfig"));
    for (const args of [
      ["scan", "--kubeconfig", bad],
      ["plan", "--kubeconfig", bad],
      [
        "apply",
        "--kubeconfig",
        bad,
        "--only",
        "felix-disable-xdp",
        "--yes",
        "--state-dir",
        join(work, "state"),
      ],
    ]) {
      // Generous: six helpers share two cores; a 401 is answered at once, a hang is not.
      const r = await run(args, 90_000);
      assert.equal(r.killed, false, `${args[0] ?? ""} hung`);
      assert.equal(r.code, 2, `${args[0] ?? ""}: exit ${String(r.code)}: ${r.stderr}`);
      assert.match(r.stderr.trim(), /^cnidoctor: could not read the cluster: .*unauthorized/i);
      assert.doesNotMatch(r.stderr, /no step|internal error/);
      assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
    }
  },
);

test(
  "apiserver frozen at the first log read: the scan ends by --timeout (≤ 2.5 s late), not 0, and says what was not read",
  { timeout: 120_000 },
  async () => {
    assert.ok(cluster);
    const work = mkdtempSync(join(tmpdir(), "it-live-freeze-"));
    const proxy = await freezeProxy((_, path) => /\/pods\/[^/]+\/log\?/.test(path));
    const deadlineMs = 15_000;
    let r: Run;
    try {
      r = await run(
        [
          "scan",
          "--kubeconfig",
          proxiedKubeconfig(proxy.url, join(work, "proxy.kubeconfig")),
          "--request-timeout",
          "5s",
          "--timeout",
          `${deadlineMs / 1000}s`,
          "-o",
          "json",
        ],
        60_000,
      );
    } finally {
      await proxy.close();
    }
    const late = r.ms - deadlineMs;
    console.log(
      `# freeze at the first log read: exit ${String(r.code)} after ${r.ms} ms (${late} ms past --timeout); frozen ${proxy.frozenAt !== undefined ? "yes" : "no"}`,
    );
    assert.equal(r.killed, false, "the scan hung with the API server frozen");
    assert.ok(proxy.frozenAt !== undefined, "the scan never read a log before its deadline");
    assert.ok(late < 2500, `ended ${late} ms after its --timeout of ${deadlineMs} ms`);
    assert.ok(r.code === 3 || r.code === 4, `exit ${String(r.code)}: ${r.stderr}`);
    const report = JSON.parse(r.stdout) as { coverage: { check: string; status: string; reason: string }[] };
    const cut = report.coverage.filter((c) => c.status === "not-evaluated" && c.check === "logs");
    assert.ok(cut.length > 0, "no logs coverage gap although the server froze");
    assert.ok(
      cut.every((c) => /overall --timeout of 15 s ran out/.test(c.reason)),
      JSON.stringify(cut),
    );
  },
);

/** apply --only felix-disable-xdp through a proxy that freezes the apiserver at its real PATCH. */
async function applyFrozenAtPatch(
  when: "request" | "response",
): Promise<{ r: Run; backup: string; proxy: FreezeProxy }> {
  assert.ok(cluster);
  const work = mkdtempSync(join(tmpdir(), "it-live-freeze-"));
  const proxy = await freezeProxy((method, path) => method === "PATCH" && !path.includes("dryRun"), when);
  let r: Run;
  try {
    r = await run(
      [
        "apply",
        "--kubeconfig",
        proxiedKubeconfig(proxy.url, join(work, "proxy.kubeconfig")),
        "--only",
        "felix-disable-xdp",
        "--yes",
        "--state-dir",
        join(work, "state"),
        "--request-timeout",
        "2s",
        "--timeout",
        "120s",
      ],
      150_000,
    );
  } finally {
    await proxy.close();
  }
  const after = proxy.frozenAt !== undefined ? Date.now() - proxy.frozenAt : undefined;
  console.log(
    `# apply, server frozen at the PATCH ${when}: exit ${String(r.code)}, ${r.ms} ms; ${r.stderr.trim().slice(0, 300)}`,
  );
  assert.equal(r.killed, false, "apply hung with the API server frozen");
  assert.ok(proxy.frozenAt !== undefined, `apply never sent its PATCH: ${r.stdout}${r.stderr}`);
  assert.ok(after !== undefined && after < 2000 + 5000, `apply took ${String(after)} ms after the freeze`);
  assert.equal(r.code, 5, `${r.stdout}\n${r.stderr}`);
  assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
  assert.match(
    r.stderr,
    /patching FelixConfiguration default: no answer within 2 s \(--request-timeout\); the change may or may not have been made/,
  );
  assert.doesNotMatch(r.stderr, /aborted|internal error/);
  const backup = /^backup: (\S+)$/m.exec(r.stdout)?.[1];
  assert.ok(backup !== undefined, r.stdout);
  return { r, backup: `${backup} --state-dir ${join(work, "state")}`, proxy };
}

async function rollbackRestores(backupArgs: string, original: string): Promise<void> {
  assert.ok(cluster);
  const r = await run(
    ["rollback", ...backupArgs.split(" "), "--yes", "--kubeconfig", cluster.kubeconfig],
    60_000,
  );
  assert.equal(r.code, 0, `rollback: ${r.stdout}${r.stderr}`);
  assert.equal(await felixSpec(), original, "rollback did not restore the FelixConfiguration");
}

test(
  "apiserver frozen while apply's PATCH is in flight (never processed): exit 5 within the request timeout, truthful, rollback is clean",
  { timeout: 240_000 },
  async () => {
    const original = await felixSpec();
    const { backup } = await applyFrozenAtPatch("request");
    await rollbackRestores(backup, original);
  },
);

test(
  "apiserver frozen after applying the PATCH, its answer lost: exit 5, truthful; rollback knows the change as apply's own and restores",
  { timeout: 240_000 },
  async () => {
    const original = await felixSpec();
    const { backup } = await applyFrozenAtPatch("response");
    assert.notEqual(await felixSpec(), original, "the withheld PATCH should have been made");
    await rollbackRestores(backup, original);
  },
);

test(
  "a partial read (DaemonSets and pods forbidden) is exit 4 in scan, plan and apply; apply changes nothing",
  { timeout: 240_000 },
  async () => {
    assert.ok(cluster);
    const work = mkdtempSync(join(tmpdir(), "it-live-freeze-"));
    const original = await felixSpec();
    const proxy = await startFaultProxy({
      stateDir: cluster.stateDir,
      apiserverPort: cluster.apiserverPort,
      schedule: () => undefined,
      slowMs: 0,
      alwaysFail: [
        { pattern: /^\/apis\/apps\/v1\/daemonsets/, status: 403 },
        { pattern: /^\/api\/v1\/(namespaces\/[^/]+\/)?pods\?/, status: 403 },
      ],
    });
    const kc = proxiedKubeconfig(proxy.url, join(work, "proxy.kubeconfig"));
    try {
      const scan = await run(["scan", "--kubeconfig", kc, "-o", "json"], 60_000);
      assert.equal(scan.code, 4, `scan: ${scan.stderr}`);
      const report = JSON.parse(scan.stdout) as {
        coverage: { check: string; status: string; reason: string }[];
      };
      assert.ok(
        report.coverage.some(
          (c) => c.check === "daemonsets" && c.status === "not-evaluated" && /forbidden/.test(c.reason),
        ),
        JSON.stringify(report.coverage),
      );
      const plan = await run(["plan", "--kubeconfig", kc], 60_000);
      assert.equal(plan.code, 4, `plan: ${plan.stderr}`);
      assert.match(
        plan.stderr,
        /^cnidoctor: plan: the cluster was only partly read, so steps may be missing: /,
      );
      const apply = await run(
        [
          "apply",
          "--kubeconfig",
          kc,
          "--advisory",
          "CNID-2024-0001",
          "--only",
          "felix-disable-xdp",
          "--yes",
          "--state-dir",
          join(work, "state"),
        ],
        60_000,
      );
      assert.equal(apply.code, 4, `apply: ${apply.stdout}${apply.stderr}`);
      assert.match(apply.stderr, /^cnidoctor: apply: the cluster was only partly read, nothing changed: /);
      assert.equal(apply.stderr.trim().split("\n").length, 1, apply.stderr);
    } finally {
      await proxy.close();
    }
    assert.equal(await felixSpec(), original, "apply changed the cluster after a partial read");
  },
);
