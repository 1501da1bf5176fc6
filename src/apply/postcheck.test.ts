// The post-check's decisions: which container run is new, the bounded wait for the restarts, and the
// verdicts judged only on the new run's log (the one start-up "Failed to cleanup preexisting XDP
// state" record after turning XDP off is not the incident; the loop after a restart still is).
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { Readable } from "node:stream";
import { fileURLToPath } from "node:url";
import { loadAdvisories, SHIPPED_ADVISORIES_DIR } from "../advisories/load.js";
import { diagnose } from "../analyze/diagnose.js";
import { collectBundle } from "../collect/bundle/collect-bundle.js";
import { compileSignatures, scanLogFile } from "../logs/index.js";
import type { LogSourceResult } from "../model/logs.js";
import type { KubePatchStep, Step } from "../model/plan.js";
import type { Snapshot } from "../model/snapshot.js";
import { readNewRuns, sinceStartPath, waitForRestarts, type PostCheckApi } from "./postcheck-live.js";
import {
  comparePostCheck,
  isNewRun,
  observeRestarts,
  restartFollows,
  watchedNodes,
  type FelixRun,
  type NodeRestart,
} from "./postcheck.js";

const EXAMPLE = fileURLToPath(new URL("../../../examples/rke1-canal-affected", import.meta.url));
const EXCERPTS = fileURLToPath(new URL("../../../test/fixtures/excerpts/", import.meta.url));
const advisory = (await loadAdvisories(SHIPPED_ADVISORIES_DIR)).find((a) => a.id === "CNID-2024-0001");
assert.ok(advisory);
const adv = advisory;
const signatures = compileSignatures([adv]);
const before = await collectBundle(EXAMPLE, {
  container: "calico-node",
  signatures,
  now: new Date("2024-08-14T10:00:00Z"),
});
const beforeDiagnosis = diagnose(before, adv);

const run = (node: string, over: Partial<FelixRun> = {}): FelixRun => ({
  node,
  namespace: "kube-system",
  pod: `canal-${node}`,
  uid: `uid-${node}`,
  restartCount: 0,
  startedAt: "2024-08-14T09:00:00Z",
  ...over,
});
const CHANGED = Date.parse("2024-08-14T10:00:00Z");

/** A fixture's scan as the new run's log of the calico-node pod on `node`. */
async function newRunLog(node: string, fixture: string): Promise<LogSourceResult> {
  const pod = before.installs[0]?.pods.find((p) => p.nodeName === node);
  assert.ok(pod, node);
  const r = await scanLogFile(`${EXCERPTS}${fixture}`, signatures);
  return {
    ...r,
    source: {
      kind: "pod",
      namespace: pod.namespace,
      pod: pod.name,
      container: "calico-node",
      node,
      origin: "api",
    },
  };
}

/** The snapshot after the XDP-off change, with only the new runs' logs. */
function afterXdpOff(logs: LogSourceResult[], xdpEnabled = false): Snapshot {
  const felix = (before.felixConfigurations ?? []).map((f) =>
    f.name === "default" ? { ...f, spec: { ...f.spec, xdpEnabled } } : f,
  );
  return { ...before, target: { kind: "live", name: "test" }, felixConfigurations: felix, logs };
}

describe("which container run is new", () => {
  test("another pod, a higher restart count, or a later start after the change", () => {
    const old = run("n1");
    assert.equal(isNewRun(old, old, CHANGED), false);
    assert.equal(isNewRun(old, run("n1", { uid: "other" }), CHANGED), true);
    assert.equal(
      isNewRun(old, run("n1", { restartCount: 1, startedAt: "2024-08-14T10:00:05Z" }), CHANGED),
      true,
    );
    assert.equal(
      isNewRun(
        run("n1", { startedAt: undefined }),
        run("n1", { startedAt: "2024-08-14T10:00:05Z" }),
        CHANGED,
      ),
      false,
      "no baseline start and the same count: not provably new",
    );
    assert.equal(isNewRun(undefined, run("n1", { startedAt: "2024-08-14T10:00:05Z" }), CHANGED), true);
    assert.equal(isNewRun(undefined, run("n1"), CHANGED), false, "no baseline: started before the change");
    assert.equal(
      isNewRun(old, run("n1", { uid: "other", startedAt: undefined }), CHANGED),
      false,
      "not running yet",
    );
  });

  test("observeRestarts: a replacement beside its terminating pod counts; the others are pending", () => {
    const baseline = new Map([
      ["n1", run("n1")],
      ["n2", run("n2")],
    ]);
    const { restarted, pending } = observeRestarts(
      ["n1", "n2"],
      baseline,
      [run("n1"), run("n1", { uid: "new", pod: "canal-new", startedAt: "2024-08-14T10:00:03Z" }), run("n2")],
      CHANGED,
    );
    assert.equal(restarted.get("n1")?.pod, "canal-new");
    assert.deepEqual(pending, ["n2"]);
  });

  test("only changes Felix applies on restart make apply wait", () => {
    const patch = (kind: string): Step =>
      ({ kind: "kube-patch", target: { kind } }) as unknown as KubePatchStep;
    assert.equal(restartFollows(patch("FelixConfiguration")), true);
    assert.equal(restartFollows(patch("DaemonSet")), true);
    assert.equal(restartFollows({ kind: "rolling-restart" } as unknown as Step), false);
    assert.equal(restartFollows({ kind: "file-edit" } as unknown as Step), false);
  });

  test("the nodes watched are the affected and at-risk ones", () => {
    const watched = watchedNodes(beforeDiagnosis);
    const statuses = Object.fromEntries(beforeDiagnosis.verdicts.map((v) => [v.subject, v.status]));
    assert.ok(watched.length > 0);
    for (const n of watched) assert.ok(statuses[n] === "affected" || statuses[n] === "at-risk", n);
  });
});

/** A fake API whose pod list changes with the (fake) clock. */
function fakeApi(
  podsAt: (ms: number) => FelixRun[],
  clock: { ms: number },
  logs: Record<string, string> = {},
) {
  const paths: string[] = [];
  const api: PostCheckApi = {
    list: (path) => {
      paths.push(path);
      const items = podsAt(clock.ms).map((r) => ({
        metadata: { name: r.pod, uid: r.uid, ownerReferences: [{ kind: "DaemonSet", name: "canal" }] },
        spec: { nodeName: r.node },
        status: {
          containerStatuses: [
            {
              name: "calico-node",
              restartCount: r.restartCount,
              state: r.startedAt !== undefined ? { running: { startedAt: r.startedAt } } : { waiting: {} },
            },
          ],
        },
      }));
      return Promise.resolve({ ok: true, value: items });
    },
    stream: (path) => {
      paths.push(path);
      const pod = /pods\/([^/]+)\/log/.exec(path)?.[1] ?? "";
      const text = logs[pod] ?? "";
      const body: AsyncIterable<Uint8Array> = Readable.from([Buffer.from(text)]);
      return Promise.resolve({ ok: true, value: body });
    },
  };
  return { api, paths };
}

describe("the bounded wait", () => {
  const options = (o: { expectRestart: boolean; waitMs: number }, clock: { ms: number }) => ({
    daemonSets: [{ namespace: "kube-system", name: "canal" }],
    container: "calico-node",
    watched: ["n1", "n2"],
    baseline: new Map([
      ["n1", run("n1")],
      ["n2", run("n2")],
    ]),
    changedAtMs: CHANGED,
    pollMs: 1000,
    now: () => clock.ms,
    sleep: (ms: number) => {
      clock.ms += ms;
      return Promise.resolve();
    },
    ...o,
  });

  test("waits until each node restarted (Felix exits 129, the kubelet restarts it), then stops", async () => {
    const clock = { ms: CHANGED };
    const { api } = fakeApi(
      (ms) => [
        ms >= CHANGED + 3000 ? run("n1", { restartCount: 1, startedAt: "2024-08-14T10:00:03Z" }) : run("n1"),
        ms >= CHANGED + 5000 ? run("n2", { restartCount: 1, startedAt: "2024-08-14T10:00:05Z" }) : run("n2"),
      ],
      clock,
    );
    const r = await waitForRestarts(api, options({ expectRestart: true, waitMs: 60_000 }, clock));
    assert.deepEqual(
      r.map((x) => [x.node, x.state]),
      [
        ["n1", "restarted"],
        ["n2", "restarted"],
      ],
    );
    assert.equal(clock.ms, CHANGED + 5000, "stopped as soon as the last one restarted");
  });

  test("a node that does not restart within the bound is not re-judged, with the reason", async () => {
    const clock = { ms: CHANGED };
    const { api } = fakeApi(
      (ms) => [
        ms >= CHANGED + 2000 ? run("n1", { restartCount: 1, startedAt: "2024-08-14T10:00:02Z" }) : run("n1"),
        run("n2"),
      ],
      clock,
    );
    const r = await waitForRestarts(api, options({ expectRestart: true, waitMs: 10_000 }, clock));
    assert.equal(clock.ms, CHANGED + 10_000);
    const n2 = r.find((x) => x.node === "n2");
    assert.equal(n2?.state, "not-restarted");
    assert.match(n2.state === "not-restarted" ? n2.reason : "", /did not restart within 10s/);
  });

  test("no restart expected (a file edit): one look, no wait", async () => {
    const clock = { ms: CHANGED };
    const { api } = fakeApi(() => [run("n1"), run("n2")], clock);
    const r = await waitForRestarts(api, options({ expectRestart: false, waitMs: 60_000 }, clock));
    assert.equal(clock.ms, CHANGED);
    assert.ok(r.every((x) => x.state === "not-restarted"));
  });

  test("the new run's log is read from its start (sinceTime), after the window", async () => {
    const clock = { ms: CHANGED };
    const started = run("n1", { restartCount: 1, startedAt: "2024-08-14T10:00:03Z" });
    const { api, paths } = fakeApi(() => [started], clock, {
      "canal-n1":
        "2024-08-14 10:00:04.000 [INFO][1] felix/int_dataplane.go 562: XDP acceleration disabled.\n",
    });
    const restarts: NodeRestart[] = [
      { node: "n1", state: "restarted", run: started, seenAtMs: CHANGED + 3000 },
    ];
    const logs = await readNewRuns(api, restarts, {
      container: "calico-node",
      signatures,
      windowMs: 20_000,
      limitBytes: 1024,
      now: () => clock.ms,
      sleep: (ms) => {
        clock.ms += ms;
        return Promise.resolve();
      },
    });
    assert.equal(clock.ms, CHANGED + 23_000, "read once the window after the restart has passed");
    assert.equal(paths.at(-1), sinceStartPath(started, "calico-node", 1024));
    assert.match(paths.at(-1) ?? "", /sinceTime=2024-08-14T10%3A00%3A03Z/);
    assert.equal(logs[0]?.source.kind === "pod" ? logs[0].source.node : "", "n1");
    assert.equal(logs[0]?.scan.lines, 1);
  });
});

describe("judged on the new run only", () => {
  const affectedNode = beforeDiagnosis.verdicts.find((v) => v.status === "affected")?.subject ?? "";
  const restarted = (node: string): NodeRestart => ({
    node,
    state: "restarted",
    run: run(node, { restartCount: 1, startedAt: "2024-08-14T10:00:03Z" }),
    seenAtMs: CHANGED + 3000,
  });

  test("after XDP off, the one start-up cleanup record (BTF dump included) is not affected: every node improves", async () => {
    assert.notEqual(affectedNode, "");
    const watched = watchedNodes(beforeDiagnosis);
    const logs = [await newRunLog(affectedNode, "post-fix-restart-warning-only.log")];
    const after = diagnose(afterXdpOff(logs), adv);
    const pc = comparePostCheck(beforeDiagnosis, after, {
      nodes: watched.map(restarted),
      windowSeconds: 30,
    });
    assert.equal(after.verdicts.find((v) => v.subject === affectedNode)?.status, "not-affected");
    assert.equal(pc.worse.length, 0);
    assert.equal(pc.improved.length, watched.length, pc.lines.join("\n"));
    assert.match(
      pc.lines.join("\n"),
      new RegExp(`improved {2}${affectedNode}: affected → not-affected \\(judged on the 30s`),
    );
  });

  test("the same start-up record read on the old (pre-restart) comparison would have said the same: no signature counted", async () => {
    const logs = [await newRunLog(affectedNode, "xdp-off-startup.log")];
    const after = diagnose(afterXdpOff(logs), adv);
    assert.equal(after.verdicts.find((v) => v.subject === affectedNode)?.status, "not-affected");
  });

  test("the loop in the new run's log stays affected, and says it was seen after the restart", async () => {
    const logs = [await newRunLog(affectedNode, "single-line-shipper-v3.28.0.log")];
    const after = diagnose(afterXdpOff(logs, true), adv);
    const pc = comparePostCheck(beforeDiagnosis, after, {
      nodes: [restarted(affectedNode)],
      windowSeconds: 30,
    });
    assert.match(
      pc.lines.join("\n"),
      new RegExp(
        `unchanged ${affectedNode}: affected → affected \\(the retry loop is in what calico-node logged since it restarted`,
      ),
    );
  });

  test("a node that did not restart is listed as not re-judged, never as unchanged or improved", () => {
    const pc = comparePostCheck(beforeDiagnosis, beforeDiagnosis, {
      nodes: [
        { node: affectedNode, state: "not-restarted", reason: "calico-node did not restart within 5s" },
      ],
      windowSeconds: 30,
    });
    assert.deepEqual(pc.notJudged, [`${affectedNode}: affected, calico-node did not restart within 5s`]);
    assert.ok(!pc.unchanged.some((l) => l.startsWith(`${affectedNode}:`)));
    assert.match(pc.lines[0] ?? "", /1 not re-judged$/);
  });
});
