// The executor over real files: apply, idempotent re-apply, byte-identical rollback, an apply that
// fails after its first step (rollback restores it), a failed rehearsal that changes nothing.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { FileEditStep, FileWriteStep, Plan, Step } from "../model/plan.js";
import { sha256 } from "../remediate/rke1.js";
import { BackupSession } from "./backup-store.js";
import { applyPlan, rollback, type StepHandler } from "./executor.js";
import { FileHandler } from "./files.js";

const ORIGINAL =
  "# keep me\nkubernetes_version: v1.30.3-rancher1-1   # pinned\r\nsystem_images:\n  canal_node: a:v3.28.0\n";

function setup(): { dir: string; state: string; plan: Plan; cluster: string; out: string } {
  const dir = mkdtempSync(join(tmpdir(), "cnidoctor-exec-"));
  const cluster = join(dir, "cluster.yml");
  writeFileSync(cluster, ORIGINAL);
  const out = join(dir, "out", "rke2-calico-config.yaml");
  const base = {
    remediationId: "r",
    summary: "",
    notes: [],
    diff: "",
    default: true,
    durable: true,
    alreadyApplied: false,
  };
  const edit: FileEditStep = {
    ...base,
    id: "edit",
    title: "edit",
    kind: "file-edit",
    path: cluster,
    beforeSha256: sha256(ORIGINAL),
    after: ORIGINAL.replace("v3.28.0", "v3.28.1"),
  };
  const write: FileWriteStep = {
    ...base,
    id: "write",
    title: "write",
    kind: "file-write",
    path: out,
    content: "kind: HelmChartConfig\n",
  };
  const plan: Plan = {
    schemaVersion: 1,
    advisoryId: "CNID-2024-0001",
    createdAt: "",
    inputs: [],
    steps: [edit, write],
    notes: [],
  };
  return { dir, state: join(dir, "state"), plan, cluster, out };
}

const now = new Date("2024-08-14T09:01:36Z");

/** The real file handler, made to fail when it applies `stepId` (after earlier steps changed things). */
function failingOn(stepId: string): StepHandler {
  const real = new FileHandler();
  return {
    kinds: real.kinds,
    inspect: (s) => real.inspect(s),
    rehearse: (s) => real.rehearse(s),
    backup: (s, session) => real.backup(s, session),
    apply: (s: Step, e, session) =>
      s.id === stepId ? Promise.reject(new Error("disk full (injected)")) : real.apply(s, e, session),
    conflict: (e, session) => real.conflict(e, session),
    undo: (e, session) => real.undo(e, session),
  };
}

describe("executor with files", () => {
  test("apply, re-apply is a no-op, rollback restores byte for byte and removes the new file", async () => {
    const { state, plan, cluster, out } = setup();
    const first = await applyPlan(plan, { stateDir: state, handlers: [new FileHandler()], now });
    assert.ok(first.backupId);
    assert.deepEqual(
      first.outcomes.map((o) => o.result),
      ["applied", "applied"],
    );
    assert.match(readFileSync(cluster, "utf8"), /v3\.28\.1/);
    assert.equal(readFileSync(out, "utf8"), "kind: HelmChartConfig\n");
    const dir = join(state, "backups", first.backupId);
    assert.deepEqual(readdirSync(dir).sort(), ["audit.log", "blobs", "manifest.json"]);
    const audit = readFileSync(join(dir, "audit.log"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { step: string; action: string });
    assert.deepEqual(
      audit.map((a) => `${a.step}:${a.action}`),
      ["edit:dry-run", "write:dry-run", "edit:backup", "edit:apply", "write:backup", "write:apply"],
    );

    const again = await applyPlan(plan, { stateDir: state, handlers: [new FileHandler()], now });
    assert.equal(again.backupId, undefined, "nothing changed, no backup");
    assert.deepEqual(
      again.outcomes.map((o) => o.result),
      ["already-applied", "already-applied"],
    );

    const r = await rollback(state, first.backupId, [new FileHandler()]);
    assert.deepEqual(r.failures, []);
    assert.ok(readFileSync(cluster).equals(Buffer.from(ORIGINAL)), "byte-identical, CRLF included");
    assert.equal(existsSync(out), false);
    assert.equal((await BackupSession.open(state, first.backupId)).manifest.status, "rolled-back");
  });

  test("a failure after the first step leaves a backup that rollback restores", async () => {
    const { state, plan, cluster, out } = setup();
    const r = await applyPlan(plan, { stateDir: state, handlers: [failingOn("write")], now });
    assert.ok(r.backupId);
    assert.equal(r.failure?.stepId, "write");
    assert.deepEqual(
      r.outcomes.map((o) => `${o.stepId}:${o.result}`),
      ["edit:applied", "write:failed"],
    );
    assert.match(readFileSync(cluster, "utf8"), /v3\.28\.1/, "the first step did change the file");
    const manifest = (await BackupSession.open(state, r.backupId)).manifest;
    assert.equal(manifest.status, "failed");
    const back = await rollback(state, r.backupId, [new FileHandler()]);
    assert.deepEqual(back.failures, []);
    assert.ok(readFileSync(cluster).equals(Buffer.from(ORIGINAL)));
    assert.equal(existsSync(out), false);
  });

  test("a file changed since planning fails the rehearsal: nothing written, no backup", async () => {
    const { state, plan, cluster, out } = setup();
    writeFileSync(cluster, `${ORIGINAL}# edited by someone else\n`);
    await assert.rejects(
      applyPlan(plan, { stateDir: state, handlers: [new FileHandler()], now }),
      /changed since the plan was made/,
    );
    assert.equal(existsSync(out), false);
    assert.equal(existsSync(join(state, "backups")), false);
  });

  test("only runs the named steps; manual steps are reported, never run", async () => {
    const { state, plan, out, cluster } = setup();
    const manual: Step = { ...plan.steps[0], kind: "manual", id: "m", instructions: ["x"] } as Step;
    const r = await applyPlan(
      { ...plan, steps: [...plan.steps, manual] },
      { stateDir: state, handlers: [new FileHandler()], now, only: ["write", "m"] },
    );
    assert.deepEqual(r.outcomes.map((o) => `${o.stepId}:${o.result}`).sort(), ["m:manual", "write:applied"]);
    assert.ok(existsSync(out));
    assert.equal(readFileSync(cluster, "utf8"), ORIGINAL);
  });
});
