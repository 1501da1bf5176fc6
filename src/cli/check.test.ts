// `cnidoctor check` through the built binary: files it reads (an RKE2 config.yaml's CNI, a
// cluster.yml), what differs by Rancher version, and the exit codes a CI gate relies on.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const BIN = join(ROOT, "dist/src/cli/bin.js");

interface Answer {
  query: { kind: string; version: string; variant?: string; origin?: string };
  advisoryId: string;
  verdict: string;
  reason: string;
  fixed?: { version: string };
  noFixInLine?: { line: string; next?: { line: string; version: string } };
  component?: { ecosystem: string; version: string; image?: string; imageKey?: string };
  offered?: { distribution: string; affected: string[]; fixed: string[] }[];
}

function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      { env: { ...process.env, NO_COLOR: "1", CNIDOCTOR_KDM: "" } },
      (err, stdout, stderr) => {
        const code = err === null ? 0 : typeof err.code === "number" ? err.code : -1;
        done({ code, stdout, stderr });
      },
    );
  });
}

async function answers(args: string[]): Promise<{ code: number; answers: Answer[] }> {
  const r = await run([...args, "-o", "json"]);
  assert.equal(r.stderr, "");
  const doc = JSON.parse(r.stdout) as { schemaVersion: number; kind: string; answers: Answer[] };
  // Every check document carries its layout's version and kind, as scan and fleet reports do.
  assert.equal(doc.schemaVersion, 1);
  assert.equal(doc.kind, "check");
  return { code: r.code, answers: doc.answers };
}

let tmp = "";
before(async () => {
  tmp = await mkdtemp(join(tmpdir(), "cnidoctor-check-"));
});
after(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe("an RKE2 config.yaml with --rke-config", () => {
  test("its cni decides the chart of the --rke2 release (rke2-calico: affected, exit 3)", async () => {
    const file = join(tmp, "config.yaml");
    await writeFile(file, "cni:\n  - multus\n  - calico\nwrite-kubeconfig-mode: '0644'\n");
    const r = await answers(["check", "--rke-config", file, "--rke2", "v1.30.2+rke2r1"]);
    assert.equal(r.code, 3);
    assert.equal(r.answers[0]?.query.variant, "calico");
    assert.match(r.answers[0]?.query.origin ?? "", /config\.yaml cni calico/);
    assert.equal(r.answers[0]?.verdict, "affected");
  });

  test("no cni: RKE2's default canal, conditional (the chart turns XDP off), exit 0; --cni wins", async () => {
    const file = join(tmp, "plain.yaml");
    await writeFile(file, "token: secret\n");
    const r = await answers(["check", "--rke-config", file, "--rke2", "v1.30.2+rke2r1"]);
    assert.equal(r.code, 0);
    assert.equal(r.answers[0]?.verdict, "conditional");
    const flag = await answers([
      "check",
      "--rke-config",
      file,
      "--rke2",
      "v1.30.2+rke2r1",
      "--cni",
      "calico",
    ]);
    assert.equal(flag.answers[0]?.query.variant, "calico");
  });

  test("a CNI the advisory does not concern, or no release at all: one line, exit 2", async () => {
    const cilium = join(tmp, "cilium.yaml");
    await writeFile(cilium, "cni: cilium\n");
    const r = await run(["check", "--rke-config", cilium, "--rke2", "v1.30.2+rke2r1"]);
    assert.equal(r.code, 2);
    assert.match(
      r.stderr.trim(),
      /^cnidoctor: .*cilium\.yaml: selects CNI 'cilium', not Calico, Canal or flannel/,
    );
    const none = await run(["check", "--rke-config", cilium.replace("cilium", "plain")]);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /pins no version: give --rke2 VERSION/);
  });
});

describe("Rancher decides the fixed alternative", () => {
  test("RKE2 1.30 under Rancher 2.9 gets v1.30.4, under 2.10 v1.30.5; unknown says both", async () => {
    const q = ["check", "--rke2", "v1.30.2+rke2r1", "--cni", "calico"];
    const r29 = await answers([...q, "--rancher", "v2.9.1"]);
    const r210 = await answers([...q, "--rancher", "v2.10.0"]);
    const unknown = await answers(q);
    assert.equal(r29.answers[0]?.fixed?.version, "v1.30.4+rke2r1");
    assert.equal(r210.answers[0]?.fixed?.version, "v1.30.5+rke2r1");
    assert.match(
      unknown.answers[0]?.reason ?? "",
      /v1\.30\.4\+rke2r1 for Rancher .*v1\.30\.5\+rke2r1 for Rancher/,
    );
  });

  test("check --rancher v2.10.0 lists the fixed RKE2 releases it offers and none of the capped ones", async () => {
    const r = await answers(["check", "--rancher", "v2.10.0"]);
    const rke2 = r.answers[0]?.offered?.find((o) => o.distribution === "rke2");
    assert.ok(rke2?.fixed.includes("v1.30.5+rke2r1"));
    assert.ok(!rke2?.fixed.includes("v1.30.4+rke2r1"));
    assert.deepEqual(rke2?.affected, []);
  });
});

// An advisory judged by its own lists (an RKE2 release list, a flannel range), not by Calico release.
describe("answers from an advisory's own release lists and component range", () => {
  const ID = "CNID-2024-0002";
  const own = (r: { answers: Answer[] }): Answer | undefined => r.answers.find((a) => a.advisoryId === ID);

  test("RKE2 v1.28.8 (canal) is affected with v1.28.9 fixed: exit 3", async () => {
    const r = await answers(["check", "--rke2", "v1.28.8+rke2r1"]);
    assert.equal(r.code, 3);
    assert.equal(own(r)?.verdict, "affected");
    assert.equal(own(r)?.fixed?.version, "v1.28.9+rke2r1");
  });

  test("RKE2 v1.26.15 is affected and its line has no fixed release: the table says move to 1.27", async () => {
    const r = await answers(["check", "--rke2", "v1.26.15+rke2r1"]);
    assert.equal(r.code, 3);
    assert.equal(own(r)?.fixed, undefined);
    assert.deepEqual(own(r)?.noFixInLine, {
      line: "1.26",
      next: { line: "1.27", version: "v1.27.13+rke2r1" },
    });
    const table = await run(["check", "--rke2", "v1.26.15+rke2r1"]);
    assert.match(
      table.stdout,
      /smallest fixed: none in 1\.26; move to 1\.27 or later \(v1\.27\.13\+rke2r1\)/,
    );
    const md = await run(["check", "--rke2", "v1.26.15+rke2r1", "-o", "markdown"]);
    assert.match(md.stdout, /\| CNID-2024-0002 \| affected \| .* \| none in 1\.26; move to 1\.27 or later/);
  });

  test("RKE2 v1.28.9 (canal), and v1.28.8 with cni calico or flannel, are not affected: exit 0", async () => {
    for (const args of [
      ["--rke2", "v1.28.9+rke2r1"],
      ["--rke2", "v1.28.8+rke2r1", "--cni", "calico"],
      ["--rke2", "v1.28.8+rke2r1", "--cni", "flannel"],
    ]) {
      const r = await answers(["check", ...args]);
      assert.equal(r.code, 0, args.join(" "));
      assert.equal(own(r)?.verdict, "not-affected", args.join(" "));
    }
  });

  test("an RKE2 release nobody knows is unknown: exit 4", async () => {
    const r = await answers(["check", "--rke2", "v1.99.1+rke2r1"]);
    assert.equal(r.code, 4);
    assert.equal(own(r)?.verdict, "unknown");
  });

  test("--flannel v0.24.3 is affected (exit 3, fixed v0.24.4); v0.24.4 is not (exit 0)", async () => {
    const bad = await answers(["check", "--flannel", "v0.24.3"]);
    assert.equal(bad.code, 3);
    assert.equal(bad.answers.length, 1, "no Calico-range advisory answers a flannel release");
    assert.equal(own(bad)?.fixed?.version, "v0.24.4");
    const good = await answers(["check", "--flannel", "v0.24.4"]);
    assert.equal(good.code, 0);
    assert.equal(own(good)?.verdict, "not-affected");
  });

  test("--rke1 is judged by the canal_flannel image, named in every format", async () => {
    const r = await answers(["check", "--rke1", "v1.28.8-rancher1-1"]);
    assert.equal(r.code, 0);
    assert.equal(own(r)?.verdict, "not-affected");
    assert.deepEqual(own(r)?.component, {
      ecosystem: "flannel",
      version: "v0.24.2",
      image: "rancher/mirrored-flannel-flannel:v0.24.2",
      imageKey: "canal_flannel",
    });
    const table = await run(["check", "--rke1", "v1.28.8-rancher1-1"]);
    assert.match(
      table.stdout,
      /image: canal_flannel rancher\/mirrored-flannel-flannel:v0\.24\.2 \(flannel v0\.24\.2\)/,
    );
    const md = await run(["check", "--rke1", "v1.28.8-rancher1-1", "-o", "markdown"]);
    assert.match(
      md.stdout,
      /\(canal\) — canal_flannel rancher\/mirrored-flannel-flannel:v0\.24\.2 .*\| CNID-2024-0002 \|/,
    );
  });

  test("an RKE2 config.yaml with cni: flannel is checked, not refused", async () => {
    const file = join(tmp, "flannel.yaml");
    await writeFile(file, "cni: flannel\n");
    const r = await answers(["check", "--rke-config", file, "--rke2", "v1.28.8+rke2r1"]);
    assert.equal(r.code, 0);
    assert.ok(r.answers.length >= 2);
    for (const a of r.answers) {
      assert.equal(a.query.variant, "flannel");
      assert.equal(a.verdict, "not-affected");
    }
  });
});
