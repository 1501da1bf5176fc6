// plan / apply / rollback against the real harness (kube-apiserver, controller-manager, scheduler,
// etcd, KWOK): FelixConfiguration patch and rollback, the memory-limit patch, an apply interrupted
// after its first change, the gated rolling restart, Lease contention between two runs, a pod that
// never becomes Ready mid-rollout, and the generated CronJob + RBAC validated by the apiserver.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { appendFileSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { type ClusterInfo } from "../../scripts/cluster/cluster.js";
import { clusterForSuite } from "./support/cluster.js";
import { findKubectl } from "../../scripts/cluster/tools.js";
import { calicoLogFile } from "../../scripts/cluster/pod-logs.js";
import { felixTimestamp, toCri } from "../../scripts/fixtures/felix-log.js";
import { applyPlan, rollback, type StepHandler } from "../../src/apply/executor.js";
import { KubeObjectHandler, withoutServerFields } from "../../src/apply/kube-objects.js";
import { DEFAULT_CLIENT, KubeClient } from "../../src/kube/client.js";
import { loadKubeConfig } from "../../src/kube/config.js";
import { resolveEndpoint } from "../../src/kube/endpoint.js";
import type { Plan, Step } from "../../src/model/plan.js";
import { cnidoctor, type CliRun } from "./support/live.js";

const NAME = "it-remediate";
const NODES = 3;
let cluster: ClusterInfo | undefined;
const state = mkdtempSync(join(tmpdir(), "cnidoctor-remediate-"));
const exec = promisify(execFile);

function info(): ClusterInfo {
  assert.ok(cluster, "cluster did not start");
  return cluster;
}

async function kubectl(args: string[]): Promise<string> {
  const { stdout } = await exec(findKubectl(), args, {
    env: { ...process.env, KUBECONFIG: info().kubeconfig },
  });
  return stdout;
}

async function getJson(args: string[]): Promise<Record<string, unknown>> {
  return JSON.parse(await kubectl([...args, "-o", "json"])) as Record<string, unknown>;
}

function cli(args: string[]): Promise<CliRun> {
  const withState = args[0] === "plan" ? [] : ["--state-dir", state];
  return cnidoctor([...args, "--kubeconfig", info().kubeconfig, ...withState]);
}

async function allPodsReady(): Promise<void> {
  for (let i = 0; i < 600; i++) {
    const pods = await canalPods();
    if (pods.length === NODES && pods.every(ready)) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  assert.fail("calico pods did not all become Ready again");
}

/** OnDelete keeps the controller from rolling by itself; the new template cannot be scheduled. */
async function blockReplacements(): Promise<Record<string, unknown>> {
  const original = await canalDaemonSet();
  const patch = {
    spec: {
      updateStrategy: { type: "OnDelete", rollingUpdate: null },
      template: {
        spec: { containers: [{ name: "calico-node", resources: { requests: { memory: "64Ti" } } }] },
      },
    },
  };
  await kubectl([
    "-n",
    "kube-system",
    "patch",
    "daemonset",
    "canal",
    "--type=strategic",
    "-p",
    JSON.stringify(patch),
  ]);
  return original;
}

async function unblockReplacements(original: Record<string, unknown>): Promise<void> {
  const file = join(state, "canal.json");
  writeFileSync(file, JSON.stringify(original));
  await kubectl(["replace", "-f", file]);
  for (const p of (await canalPods()).filter((x) => !ready(x)))
    await kubectl(["-n", "kube-system", "delete", "pod", p.metadata.name, "--ignore-not-found"]);
  await allPodsReady();
}

const backupOf = (r: CliRun): string => {
  const m = /^backup: (\S+)$/m.exec(r.stdout);
  assert.ok(m?.[1], `no backup line (exit ${r.code}):\n${r.stdout}\n${r.stderr}`);
  return m[1];
};

interface PodList {
  items: {
    metadata: { name: string; uid: string };
    spec: { nodeName?: string };
    status: { conditions?: { type: string; status: string }[] };
  }[];
}
async function canalPods(): Promise<PodList["items"]> {
  return ((await getJson(["-n", "kube-system", "get", "pods", "-l", "k8s-app=canal"])) as unknown as PodList)
    .items;
}
const ready = (p: PodList["items"][number]): boolean =>
  (p.status.conditions ?? []).some((c) => c.type === "Ready" && c.status === "True");

async function felixDefault(): Promise<Record<string, unknown>> {
  return withoutServerFields(await getJson(["get", "felixconfigurations.crd.projectcalico.org", "default"]));
}
async function canalDaemonSet(): Promise<Record<string, unknown>> {
  return withoutServerFields(await getJson(["-n", "kube-system", "get", "daemonset", "canal"]));
}

/**
 * What a real node does after a change Felix applies only on restart (xdpEnabled): Felix exits 129
 * and the kubelet starts calico-node again in the same pod. KWOK has no kubelet, so the pod status
 * gets the new run (restartCount + 1, a new startedAt, the old run terminated with 129) and the
 * node's log file (which KWOK serves, filtering by sinceTime) gets what the new run logs: under
 * RKE1's Warning screen, on an affected image and kernel, only the one start-up "Failed to cleanup
 * preexisting XDP state" record with libbpf's BTF dump; elsewhere nothing at WARNING.
 */
async function simulateFelixRestart(node: string, startupRecord: boolean): Promise<void> {
  const pod = (await canalPods()).find((p) => p.spec.nodeName === node);
  assert.ok(pod, `a canal pod on ${node}`);
  const full = (await getJson(["-n", "kube-system", "get", "pod", pod.metadata.name])) as {
    status: {
      containerStatuses: { name: string; restartCount: number; state: { running?: { startedAt: string } } }[];
    };
  };
  const startMs = Math.floor(Date.now() / 1000) * 1000;
  const startedAt = new Date(startMs).toISOString().replace(/\.000Z$/, "Z");
  const statuses = full.status.containerStatuses.map((c) =>
    c.name === "calico-node"
      ? {
          ...c,
          restartCount: c.restartCount + 1,
          state: { running: { startedAt } },
          lastState: {
            terminated: {
              exitCode: 129,
              reason: "Error",
              startedAt: c.state.running?.startedAt ?? startedAt,
              finishedAt: startedAt,
            },
          },
        }
      : c,
  );
  await kubectl([
    "-n",
    "kube-system",
    "patch",
    "pod",
    pod.metadata.name,
    "--subresource=status",
    "--type=merge",
    "-p",
    JSON.stringify({ status: { containerStatuses: statuses } }),
  ]);
  const record = readFileSync(
    new URL("../../../test/fixtures/excerpts/post-fix-restart-warning-only.log", import.meta.url),
    "utf8",
  )
    .replace(/\n$/, "")
    .split("\n");
  const at = new Date(startMs + 500);
  const lines = startupRecord
    ? record.map((l, k) => (k === 0 ? l.replace(/^\S+ \S+/, felixTimestamp(at)) : l))
    : [];
  if (lines.length > 0)
    appendFileSync(
      calicoLogFile(info().stateDir, node),
      `${lines.map((text) => toCri({ time: at, text })).join("\n")}\n`,
    );
}

async function until(what: string, check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.fail(`timed out waiting for ${what}`);
}

clusterForSuite({ scenario: "rke1-canal-affected", nodes: NODES, name: NAME }, (info) => {
  cluster = info;
});

describe("plan", () => {
  test("lists the FelixConfiguration patch, restart, memory limit, CronJob, kernel and alert steps; read-only", async () => {
    const before = await felixDefault();
    const r = await cli(["plan", "-o", "json"]);
    assert.equal(r.code, 0, r.stderr);
    const plan = JSON.parse(r.stdout) as Plan;
    const ids = plan.steps.map((s) => s.id);
    for (const id of [
      "felix-disable-xdp",
      "restart-kube-system-canal",
      "scheduled-restart-kube-system-canal",
      "limit-memory-kube-system-canal",
      "kernel-upgrade",
      "alert-rules",
    ])
      assert.ok(ids.includes(id), `${id} in ${ids.join(", ")}`);
    const felix = plan.steps.find((s) => s.id === "felix-disable-xdp");
    assert.equal(felix?.default, true);
    assert.match(felix?.diff ?? "", /^\+ {2}xdpEnabled: false$/m);
    assert.match(plan.notes.join(" "), /1 affected, 2 at risk/);
    assert.deepEqual(await felixDefault(), before, "plan changed nothing");
  });
});

describe("FelixConfiguration", () => {
  test("apply without --yes changes nothing", async () => {
    const before = await felixDefault();
    const r = await cli(["apply", "--only", "felix-disable-xdp"]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /nothing changed \(pass --yes/);
    assert.deepEqual(await felixDefault(), before);
  });

  test("apply --yes patches it; the post-check waits for Felix's restart and judges only the new run's log: every node improved (the start-up cleanup record is not the loop); re-apply is a no-op; rollback restores it", async () => {
    const original = await felixDefault();
    assert.equal((original.spec as Record<string, unknown>).xdpEnabled, undefined);
    const running = cli([
      "apply",
      "--only",
      "felix-disable-xdp",
      "--yes",
      "--restart-wait",
      "60s",
      "--post-check-window",
      "2s",
    ]);
    await until("the FelixConfiguration change", async () => {
      return ((await felixDefault()).spec as Record<string, unknown>).xdpEnabled === false;
    });
    const hot = new Set(info().hotNodes);
    for (const p of await canalPods()) {
      const node = p.spec.nodeName ?? "";
      await simulateFelixRestart(node, hot.has(node));
    }
    const r = await running;
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    const id = backupOf(r);
    assert.equal(((await felixDefault()).spec as Record<string, unknown>).xdpEnabled, false);
    assert.match(r.stdout, /post-check: 3 of 3 node\(s\) improved, 0 worse, 0 unchanged/);
    assert.match(
      r.stdout,
      /improved {2}\S+: at-risk → not-affected \(judged on the 2s calico-node logged after it restarted at /,
    );
    for (const node of hot)
      assert.match(r.stdout, new RegExp(`improved {2}${node}: affected → not-affected`), r.stdout);

    const again = await cli(["apply", "--only", "felix-disable-xdp", "--yes"]);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /already-applied\s+felix-disable-xdp/);
    assert.doesNotMatch(again.stdout, /^backup:/m);

    const back = await cli(["rollback", id, "--yes"]);
    assert.equal(back.code, 0, `${back.stdout}\n${back.stderr}`);
    assert.deepEqual(await felixDefault(), original, "semantically identical after rollback");
  });

  test("missing FelixConfiguration default: created, and rollback deletes it again", async () => {
    const saved = await felixDefault();
    await kubectl(["delete", "felixconfigurations.crd.projectcalico.org", "default"]);
    try {
      // Nothing restarts calico-node here: the post-check waits its bound and says so.
      const r = await cli(["apply", "--only", "felix-disable-xdp", "--yes", "--restart-wait", "2s"]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /created FelixConfiguration default/);
      assert.match(r.stdout, /post-check: 0 of 3 node\(s\) improved, 0 worse, 0 unchanged, 3 not re-judged/);
      assert.match(r.stdout, /not re-judged \S+: \S+, calico-node did not restart within 2s of the change/);
      const back = await cli(["rollback", backupOf(r), "--yes"]);
      assert.equal(back.code, 0, back.stderr);
      const left = await kubectl([
        "get",
        "felixconfigurations.crd.projectcalico.org",
        "--no-headers",
        "--ignore-not-found",
      ]);
      assert.equal(left.trim(), "");
    } finally {
      const file = join(state, "felix-default.json");
      writeFileSync(file, JSON.stringify(saved));
      await kubectl(["apply", "-f", file]);
    }
  });
});

describe("DaemonSet memory limit and an interrupted apply", () => {
  test("limit-memory patches only calico-node's limit; rollback makes the DaemonSet identical again", async () => {
    const original = await canalDaemonSet();
    const r = await cli([
      "apply",
      "--only",
      "limit-memory-kube-system-canal",
      "--memory-limit",
      "768Mi",
      "--yes",
      "--restart-wait",
      "60s",
      "--post-check-window",
      "1s",
    ]);
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    // The template change replaces every pod; the post-check judges the replacements' logs only.
    assert.match(r.stdout, /post-check: \d of 3 node\(s\) improved, 0 worse, \d unchanged$/m);
    const patched = (await getJson(["-n", "kube-system", "get", "daemonset", "canal"])) as {
      spec: {
        template: {
          spec: {
            containers: {
              name: string;
              resources?: { limits?: Record<string, string>; requests?: Record<string, string> };
            }[];
          };
        };
      };
    };
    const node = patched.spec.template.spec.containers.find((c) => c.name === "calico-node");
    assert.equal(node?.resources?.limits?.memory, "768Mi");
    assert.equal(node?.resources?.requests?.cpu, "250m", "request kept");
    const back = await cli(["rollback", backupOf(r), "--yes"]);
    assert.equal(back.code, 0, back.stderr);
    assert.deepEqual(await canalDaemonSet(), original);
  });

  test("a failure injected after the first API change: rollback restores the first", async () => {
    const r = await cli(["plan", "-o", "json"]);
    const plan = JSON.parse(r.stdout) as Plan;
    const steps = plan.steps.filter(
      (s) => s.id === "felix-disable-xdp" || s.id === "limit-memory-kube-system-canal",
    );
    assert.equal(steps.length, 2);
    const felixBefore = await felixDefault();
    const dsBefore = await canalDaemonSet();
    const endpoint = await resolveEndpoint(loadKubeConfig({ kubeconfig: info().kubeconfig, env: {} }));
    const client = KubeClient.fromEndpoint(endpoint, DEFAULT_CLIENT);
    const real = new KubeObjectHandler(client);
    const failing: StepHandler = {
      kinds: real.kinds,
      inspect: (s) => real.inspect(s),
      rehearse: (s) => real.rehearse(s),
      backup: (s, session) => real.backup(s, session),
      apply: (s: Step, e, session) =>
        s.id === "limit-memory-kube-system-canal"
          ? Promise.reject(new Error("connection reset (injected)"))
          : real.apply(s, e, session),
      conflict: (e, session) => real.conflict(e, session),
      undo: (e, session) => real.undo(e, session),
    };
    const result = await applyPlan(
      { ...plan, steps },
      { stateDir: state, handlers: [failing], now: new Date(), only: steps.map((s) => s.id) },
    );
    assert.equal(result.failure?.stepId, "limit-memory-kube-system-canal");
    assert.ok(result.backupId);
    assert.equal(
      ((await felixDefault()).spec as Record<string, unknown>).xdpEnabled,
      false,
      "first step was applied",
    );
    const back = await rollback(state, result.backupId, [real]).finally(() => client.close());
    assert.deepEqual(back.failures, []);
    assert.deepEqual(await felixDefault(), felixBefore);
    assert.deepEqual(await canalDaemonSet(), dsBefore);
  });
});

describe("rolling restart", () => {
  test("restarts every pod in batches; all Ready; audit and backup recorded", async () => {
    const before = await canalPods();
    const r = await cli(["apply", "--only", "restart-kube-system-canal", "--max-unavailable", "2", "--yes"]);
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    backupOf(r);
    assert.match(r.stdout, /restarted 3 pod\(s\)/);
    const after = await canalPods();
    assert.equal(after.length, NODES);
    assert.ok(after.every(ready));
    const oldUids = new Set(before.map((p) => p.metadata.uid));
    assert.ok(
      after.every((p) => !oldUids.has(p.metadata.uid)),
      "every pod was replaced",
    );
    const lease = await kubectl([
      "-n",
      "kube-system",
      "get",
      "leases",
      "--no-headers",
      "--ignore-not-found",
      "cnidoctor-restart-canal",
    ]);
    assert.equal(lease.trim(), "", "lease released");
  });

  test("--only-symptomatic restarts only the pods whose log shows the signature", async () => {
    const before = await canalPods();
    const r = await cli(["apply", "--only", "restart-kube-system-canal", "--only-symptomatic", "--yes"]);
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    const hot = new Set(info().hotNodes);
    const after = await canalPods();
    for (const p of after) {
      const was = before.find((b) => b.spec.nodeName === p.spec.nodeName);
      assert.equal(
        was?.metadata.uid !== p.metadata.uid,
        hot.has(p.spec.nodeName ?? ""),
        `node ${p.spec.nodeName ?? "?"}`,
      );
    }
  });

  test("a Lease held by another run stops a second run before any pod is touched", async () => {
    const before = await canalPods();
    const now = new Date().toISOString().replace(/\.(\d{3})Z$/, ".$1000Z");
    const lease = {
      apiVersion: "coordination.k8s.io/v1",
      kind: "Lease",
      metadata: { name: "cnidoctor-restart-canal", namespace: "kube-system" },
      spec: {
        holderIdentity: "cnidoctor@other-host/42",
        leaseDurationSeconds: 600,
        renewTime: now,
        acquireTime: now,
      },
    };
    const file = join(state, "lease.json");
    writeFileSync(file, JSON.stringify(lease));
    await kubectl(["create", "-f", file]);
    try {
      const r = await cli(["apply", "--only", "restart-kube-system-canal", "--yes"]);
      assert.notEqual(r.code, 0);
      assert.match(
        r.stderr,
        /another run holds Lease kube-system\/cnidoctor-restart-canal \(holder cnidoctor@other-host\/42/,
      );
      assert.deepEqual(
        (await canalPods()).map((p) => p.metadata.uid).sort(),
        before.map((p) => p.metadata.uid).sort(),
      );
    } finally {
      await kubectl([
        "-n",
        "kube-system",
        "delete",
        "lease",
        "cnidoctor-restart-canal",
        "--ignore-not-found",
      ]);
    }
  });

  test("two concurrent runs: the one that starts while the other holds the Lease refuses", async () => {
    // The first run is held inside its first batch (its replacement cannot be scheduled) while the
    // second starts; then the replacement is allowed and the first run completes.
    const original = await blockReplacements();
    let first: Promise<CliRun> | undefined;
    try {
      first = cli(["apply", "--only", "restart-kube-system-canal", "--batch-timeout", "600", "--yes"]);
      for (let i = 0; i < 600; i++) {
        const pods = await canalPods();
        if (pods.length < NODES || !pods.every(ready)) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      const second = await cli(["apply", "--only", "restart-kube-system-canal", "--yes"]);
      assert.equal(second.code, 2, `${second.stdout}\n${second.stderr}`);
      assert.match(
        second.stderr,
        /nothing changed: another run holds Lease kube-system\/cnidoctor-restart-canal \(holder cnidoctor@/,
      );
      assert.doesNotMatch(second.stdout, /^backup:/m);
    } finally {
      await unblockReplacements(original);
    }
    const one = await first;
    assert.equal(one.code, 0, `${one.stdout}\n${one.stderr}`);
    assert.match(one.stdout, /restarted 3 pod\(s\)/);
  });

  test("a replacement that never becomes Ready stops the restart at that batch and says which nodes were left alone", async () => {
    const original = await blockReplacements();
    try {
      const r = await cli(["apply", "--only", "restart-kube-system-canal", "--batch-timeout", "5", "--yes"]);
      assert.equal(r.code, 5, `${r.stdout}\n${r.stderr}`);
      assert.match(r.stderr, /stopped at batch 1: not Ready within 5s: rke1-node-\d+: /);
      assert.match(r.stderr, /Restarted: none; not touched: \S+, \S+$/m);
      assert.match(r.stdout, /cnidoctor rollback \S+ --yes/);
      assert.equal((await canalPods()).filter(ready).length, NODES - 1, "only the first batch's pod is down");
    } finally {
      await unblockReplacements(original);
    }
  });
});

describe("scheduled restart manifests", () => {
  test("the apiserver accepts them and the RBAC grants only what the restart needs", async () => {
    const out = mkdtempSync(join(tmpdir(), "cnidoctor-out-"));
    const r = await cli([
      "apply",
      "--only",
      "scheduled-restart-kube-system-canal",
      "--output-dir",
      out,
      "--yes",
    ]);
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    const file = join(out, "cnidoctor-scheduled-restart-canal.yaml");
    await kubectl(["apply", "--dry-run=server", "-f", file]);
    await kubectl(["apply", "-f", file]);
    const sa = "system:serviceaccount:kube-system:cnidoctor-restart-canal";
    const can = async (args: string[]): Promise<string> => {
      try {
        return (await kubectl(["auth", "can-i", ...args, "--as", sa])).trim();
      } catch (e) {
        return ((e as { stdout?: string }).stdout ?? "").trim();
      }
    };
    assert.equal(await can(["delete", "pods", "-n", "kube-system"]), "yes");
    assert.equal(await can(["get", "pods/log", "-n", "kube-system"]), "yes");
    assert.equal(await can(["update", "leases/cnidoctor-restart-canal", "-n", "kube-system"]), "yes");
    assert.equal(await can(["delete", "pods", "-n", "default"]), "no");
    assert.equal(await can(["get", "secrets", "-n", "kube-system"]), "no");
    assert.equal(await can(["update", "leases/some-other-lease", "-n", "kube-system"]), "no");
    assert.equal(await can(["patch", "daemonsets/canal", "-n", "kube-system"]), "no");
    await kubectl(["delete", "-f", file]);
  });
});
