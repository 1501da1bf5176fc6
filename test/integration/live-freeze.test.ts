// The real API server frozen (SIGSTOP on the harness's kube-apiserver) in the middle of a scan and
// of an apply: both must end within their deadline (--timeout, --request-timeout) with a non-zero
// exit code that says what was not read — never a hang, never a pass. And a bad token (401) is
// "could not read the cluster", exit 2, in scan, plan and apply alike. The apiserver always gets
// SIGCONT, and the suite always stops its cluster. Needs scripts/cluster/ensure-tools.sh.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type ClusterInfo } from "../../scripts/cluster/cluster.js";
import { clusterForSuite } from "./support/cluster.js";
import { tokenKubeconfig } from "./support/live.js";

// CNIDOCTOR_FREEZE_BIN runs another build (for a before/after comparison).
const BIN =
  process.env.CNIDOCTOR_FREEZE_BIN ?? fileURLToPath(new URL("../../src/cli/bin.js", import.meta.url));
const NAME = "it-live-freeze";
let cluster: ClusterInfo | undefined;

clusterForSuite({ scenario: "rke1-canal-affected", nodes: 6, name: NAME }, (info) => {
  cluster = info;
});

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
  killed: boolean;
}

/** Runs the CLI; `during` is called once it started; past `hardMs` it is killed (the test fails). */
function run(args: string[], hardMs: number, during?: () => void): Promise<Run> {
  const t0 = Date.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      env: { ...process.env, KUBECONFIG: "", NO_COLOR: "1" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    let killed = false;
    const timer = setTimeout(() => {
      killed = true;
      child.kill("SIGKILL");
    }, hardMs);
    during?.();
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ms: Date.now() - t0, killed });
    });
  });
}

function apiserverPid(): number {
  const pid = cluster?.pids["kube-apiserver"];
  assert.ok(pid !== undefined, `no kube-apiserver pid: ${JSON.stringify(cluster?.pids)}`);
  return pid;
}

/** Freezes the apiserver after `afterMs`, and returns the thaw (always called by the test). */
function freezeAfter(afterMs: number): { thaw: () => void; armed: () => void } {
  let timer: NodeJS.Timeout | undefined;
  return {
    armed: () => {
      timer = setTimeout(() => process.kill(apiserverPid(), "SIGSTOP"), afterMs);
    },
    thaw: () => {
      clearTimeout(timer);
      process.kill(apiserverPid(), "SIGCONT");
    },
  };
}

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
      const r = await run(args, 30_000);
      assert.equal(r.killed, false, `${args[0] ?? ""} hung`);
      assert.equal(r.code, 2, `${args[0] ?? ""}: exit ${String(r.code)}: ${r.stderr}`);
      assert.match(r.stderr.trim(), /^cnidoctor: could not read the cluster: .*unauthorized/i);
      assert.doesNotMatch(r.stderr, /no step|internal error/);
      assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
    }
  },
);

test(
  "apiserver frozen mid-scan: the scan ends by --timeout, not 0, and says what was not read",
  { timeout: 120_000 },
  async () => {
    assert.ok(cluster);
    // Rate-limited so the scan is still reading logs when the server freezes 2.5 s in.
    const freeze = freezeAfter(2500);
    let r: Run;
    try {
      r = await run(
        [
          "scan",
          "--kubeconfig",
          cluster.kubeconfig,
          "--qps",
          "2",
          "--burst",
          "6",
          "--request-timeout",
          "2s",
          "--timeout",
          "8s",
          "-o",
          "json",
        ],
        40_000,
        freeze.armed,
      );
    } finally {
      freeze.thaw();
    }
    console.log(
      `# mid-scan freeze: exit ${String(r.code)} after ${r.ms} ms; ${r.stderr.trim().slice(0, 200)}`,
    );
    assert.equal(r.killed, false, "the scan hung with the API server frozen");
    assert.ok(r.ms < 25_000, `took ${r.ms} ms with --timeout 8s`);
    assert.notEqual(r.code, 0, r.stderr);
    if (r.code === 2) {
      assert.match(r.stderr, /could not read the cluster: /);
    } else {
      assert.ok(r.code === 3 || r.code === 4, `exit ${String(r.code)}: ${r.stderr}`);
      const report = JSON.parse(r.stdout) as { coverage: { status: string; reason: string }[] };
      const cut = report.coverage.filter((c) => c.status === "not-evaluated");
      assert.ok(cut.length > 0, "no coverage gap although the server froze");
      assert.ok(
        cut.some((c) => /--timeout|timed out|stalled|TIMEOUT/.test(c.reason)),
        JSON.stringify(cut),
      );
    }
  },
);

test(
  "apiserver frozen mid-apply: apply ends within its request timeouts, changes nothing unseen, not 0",
  { timeout: 120_000 },
  async () => {
    assert.ok(cluster);
    const work = mkdtempSync(join(tmpdir(), "it-live-freeze-"));
    const freeze = freezeAfter(2000);
    let r: Run;
    try {
      r = await run(
        [
          "apply",
          "--kubeconfig",
          cluster.kubeconfig,
          "--only",
          "felix-disable-xdp",
          "--yes",
          "--state-dir",
          join(work, "state"),
          "--qps",
          "2",
          "--burst",
          "6",
          "--request-timeout",
          "2s",
          "--timeout",
          "8s",
        ],
        60_000,
        freeze.armed,
      );
    } finally {
      freeze.thaw();
    }
    console.log(
      `# mid-apply freeze: exit ${String(r.code)} after ${r.ms} ms; ${r.stderr.trim().slice(0, 300)}`,
    );
    assert.equal(r.killed, false, "apply hung with the API server frozen");
    assert.ok(r.ms < 40_000, `took ${r.ms} ms`);
    assert.notEqual(r.code, 0, `${r.stdout}\n${r.stderr}`);
    assert.doesNotMatch(r.stderr, /internal error/);
  },
);
