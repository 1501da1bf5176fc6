// End-to-end through the built binary: exit codes, per-node statuses on every example bundle, every
// log format, and every kind of bad input (one line, no stack trace, documented exit code).

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { cp, mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { felixLog, toCri, toDockerJson } from "../../scripts/fixtures/felix-log.js";
import type { Report } from "../model/finding.js";
import type { Plan } from "../model/plan.js";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const BIN = join(ROOT, "dist/src/cli/bin.js");
const EXAMPLES = join(ROOT, "examples");

function run(args: string[], input?: string | Buffer): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    input,
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
    env: { ...process.env, NO_COLOR: "1" },
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

function assertOneCleanLine(stderr: string): void {
  const lines = stderr.trim().split("\n");
  assert.equal(lines.length, 1, `expected one line on stderr, got:\n${stderr}`);
  assert.match(lines[0] ?? "", /^cnidoctor: /);
  assert.doesNotMatch(stderr, /\n\s+at /, "no stack trace");
}

/** Each subject's status under one advisory. */
function statuses(report: Report, advisoryId: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of report.verdicts.find((x) => x.advisoryId === advisoryId)?.verdicts ?? [])
    out[v.subject] = v.status;
  return out;
}

const tmp = await mkdtemp(join(tmpdir(), "cnidoctor-cli-"));
const start = new Date("2024-08-09T08:00:00Z");
const stormLines = [
  ...felixLog({
    calicoVersion: "v3.28.0",
    kind: "storm",
    start,
    durationSeconds: 600,
    stormIntervalSeconds: 60,
  }),
];
const quietLines = [...felixLog({ calicoVersion: "v3.28.0", kind: "quiet", start, durationSeconds: 600 })];
const lookalikeLines = [
  ...felixLog({
    calicoVersion: "v3.26.1",
    kind: "ebpf-vmlinux-lookalike",
    start,
    durationSeconds: 600,
    stormIntervalSeconds: 60,
  }),
];

describe("scan --bundle on the example bundles", () => {
  // Per example: the exit code, then the statuses under CNID-2024-0001 and under CNID-2024-0002.
  const expected: [string, number, Record<string, number>, Record<string, number>][] = [
    ["rke1-canal-affected", 3, { affected: 2, "at-risk": 2 }, { "not-affected": 4 }],
    ["rke2-canal-xdp-off", 0, { "not-affected": 3 }, { "not-affected": 3 }],
    ["rke2-calico-at-risk", 3, { "at-risk": 3 }, { "not-affected": 3 }],
    ["ebpf-lookalike", 0, { "not-affected": 3 }, { "not-affected": 3 }],
    ["healthy", 0, { "not-affected": 3 }, { "not-affected": 3 }],
    ["rke2-canal-flannel-loop", 3, { "not-affected": 3 }, { affected: 2, "at-risk": 1 }],
    ["rke2-canal-flannel-pinned", 0, { "not-affected": 3 }, { "not-affected": 3 }],
  ];
  for (const [name, code, xdp, flannel] of expected) {
    test(`${name}: exit ${code}, ${JSON.stringify(xdp)}, ${JSON.stringify(flannel)}`, () => {
      const r = run(["scan", "--bundle", join(EXAMPLES, name), "-o", "json"]);
      assert.equal(r.stderr, "");
      const report = JSON.parse(r.stdout) as Report;
      for (const [id, counts] of [
        ["CNID-2024-0001", xdp],
        ["CNID-2024-0002", flannel],
      ] as const) {
        const got: Record<string, number> = {};
        for (const s of Object.values(statuses(report, id))) got[s] = (got[s] ?? 0) + 1;
        assert.deepEqual(got, counts, id);
      }
      assert.equal(r.code, code);
      for (const f of report.findings) {
        assert.ok(f.evidence.length > 0, "every finding carries evidence");
        assert.ok(Array.isArray(f.nodes) && Array.isArray(f.remediations));
      }
    });
  }

  test("affected nodes carry the chain: version, XDP setting and its source, kernel, signature with counts", () => {
    const report = JSON.parse(
      run(["scan", "--bundle", join(EXAMPLES, "rke1-canal-affected"), "-o", "json"]).stdout,
    ) as Report;
    const affected = report.findings.find((f) => f.status === "affected");
    assert.ok(affected);
    const text = affected.evidence.map((e) => e.message).join("\n");
    assert.match(text, /Calico v3\.28\.0 is an affected version/);
    assert.match(text, /xdpEnabled=true/);
    assert.match(text, /5\.4\.0-177-generic/);
    assert.match(text, /xdp-btf-load-failure/);
    assert.match(text, /v3\.28\.0/);
    assert.ok(affected.remediations.some((r) => r.id === "upgrade-rke1-kubernetes"));
  });

  for (const format of ["table", "yaml", "markdown"]) {
    test(`renders -o ${format}`, () => {
      const r = run(["scan", "--bundle", join(EXAMPLES, "rke1-canal-affected"), "-o", format]);
      assert.equal(r.code, 3);
      assert.match(r.stdout, /CNID-2024-0001/);
      assert.ok(!r.stdout.includes("\u001b["), "no colour when not a terminal");
    });
  }
});

describe("bad input inside a bundle becomes coverage and exit 4", () => {
  test("malformed pods.json in kube-system of a healthy cluster", async () => {
    const dir = join(tmp, "broken-pods");
    await cp(join(EXAMPLES, "healthy"), dir, { recursive: true });
    await writeFile(join(dir, "kube-system", "pods.json"), '{"kind": "PodList", "items": [ {"metadata": ');
    const r = run(["scan", "--bundle", dir, "-o", "json"]);
    assert.equal(r.code, 4, r.stderr);
    const report = JSON.parse(r.stdout) as Report;
    const gap = report.coverage.find((c) => c.status === "not-evaluated" && c.check === "pods");
    assert.ok(gap, JSON.stringify(report.coverage));
    assert.match(gap.reason, /kube-system\/pods\.json: malformed JSON/);
  });
  test("binary logs.txt in a healthy cluster", async () => {
    const dir = join(tmp, "binary-logs");
    await cp(join(EXAMPLES, "healthy"), dir, { recursive: true });
    const report0 = JSON.parse(run(["scan", "--bundle", dir, "-o", "json"]).stdout) as Report;
    const podLog = report0.verdicts[0]?.verdicts[0]?.subject;
    assert.ok(podLog);
    const pods = JSON.parse(await readFile(join(dir, "kube-system", "pods.json"), "utf8")) as {
      items: { metadata: { name: string }; spec: { nodeName?: string } }[];
    };
    const pod = pods.items.find((p) => p.spec.nodeName === podLog && p.metadata.name.startsWith("canal"));
    assert.ok(pod);
    await writeFile(
      join(dir, "kube-system", pod.metadata.name, "logs.txt"),
      Buffer.from([0, 1, 2, 3, 255, 0, 10, 0]),
    );
    const r = run(["scan", "--bundle", dir, "-o", "json"]);
    assert.equal(r.code, 4);
    const report = JSON.parse(r.stdout) as Report;
    assert.ok(
      report.coverage.some((c) => c.check === "logs" && c.status === "not-evaluated" && c.subject === podLog),
    );
  });
  test("missing nodes.json is reported, never read as an empty cluster", async () => {
    const dir = join(tmp, "no-nodes");
    await cp(join(EXAMPLES, "rke1-canal-affected"), dir, { recursive: true });
    await rm(join(dir, "nodes.json"));
    const r = run(["scan", "--bundle", dir, "-o", "json"]);
    const report = JSON.parse(r.stdout) as Report;
    assert.equal(r.code, 3, "affected nodes are still found from the pods");
    assert.ok(
      report.coverage.some(
        (c) =>
          c.check === "nodes" &&
          c.status === "not-evaluated" &&
          /nodes\.json: not in the bundle/.test(c.reason),
      ),
    );
  });
});

describe("logs", () => {
  test("plain Felix log with the storm: affected, exit 3, version fingerprint", async () => {
    const file = join(tmp, "felix.log");
    await writeFile(file, stormLines.map((l) => l.text).join("\n") + "\n");
    const r = run(["logs", file, "-o", "json"]);
    assert.equal(r.code, 3, r.stderr);
    const report = JSON.parse(r.stdout) as Report;
    const xdp = report.findings.find((f) => f.advisoryId === "CNID-2024-0001");
    assert.equal(xdp?.status, "affected");
    assert.match(JSON.stringify(xdp?.evidence), /v3\.28\.0/);
    assert.deepEqual(xdp?.nodes, []);
  });
  test("CRI lines, gzip, and docker json-file all find it", async () => {
    const cri = join(tmp, "0.log");
    await writeFile(cri, stormLines.map((l) => toCri(l)).join("\n") + "\n");
    const gz = join(tmp, "0.log.gz");
    await writeFile(gz, gzipSync(await readFile(cri)));
    const docker = join(tmp, "docker-json.log");
    await writeFile(docker, stormLines.map((l) => toDockerJson(l)).join("\n") + "\n");
    for (const f of [cri, gz, docker]) {
      const r = run(["logs", f, "-o", "json"]);
      assert.equal(r.code, 3, `${f}: ${r.stderr}`);
    }
  });
  test("a damaged line kernel is reported once, and the JavaScript path gives the same report", async () => {
    // A copy of the install whose line-kernel.wasm is not WebAssembly (a broken package or image).
    const install = await mkdtemp(join(tmpdir(), "cnidoctor-kernel-"));
    try {
      await cp(join(ROOT, "dist/src"), join(install, "dist/src"), { recursive: true });
      for (const shared of ["node_modules", "advisories", "data", "package.json"])
        await symlink(join(ROOT, shared), join(install, shared));
      await writeFile(join(install, "dist/src/logs/line-kernel.wasm"), "not wasm");
      const file = join(tmp, "felix-kernel.log");
      await writeFile(file, stormLines.map((l) => l.text).join("\n") + "\n");
      const good = run(["logs", file, "-o", "json"]);
      const r = spawnSync(
        process.execPath,
        [join(install, "dist/src/cli/bin.js"), "logs", file, "-o", "json"],
        {
          encoding: "utf8",
          timeout: 60_000,
        },
      );
      assert.equal(r.status, good.code, r.stderr);
      const notes = r.stderr.split("\n").filter((l) => l.includes("line kernel did not load"));
      assert.equal(notes.length, 1, r.stderr);
      assert.match(
        notes[0] ?? "",
        /^cnidoctor: note: the WebAssembly line kernel did not load \(.+\); logs were read/,
      );
      const strip = (json: string): unknown => ({ ...(JSON.parse(json) as Report), generatedAt: "" });
      assert.deepEqual(strip(r.stdout), strip(good.stdout));
      assert.doesNotMatch(good.stderr, /line kernel/);
    } finally {
      await rm(install, { recursive: true, force: true });
    }
  });
  test("stdin", () => {
    const r = run(["logs", "-", "-o", "json"], stormLines.map((l) => toCri(l)).join("\n") + "\n");
    assert.equal(r.code, 3, r.stderr);
  });
  test("a quiet log proves nothing about exposure: unknown, exit 4", async () => {
    const file = join(tmp, "quiet.log");
    await writeFile(file, quietLines.map((l) => l.text).join("\n") + "\n");
    const r = run(["logs", file, "-o", "json"]);
    assert.equal(r.code, 4);
    assert.equal((JSON.parse(r.stdout) as Report).findings[0]?.status, "unknown");
  });
  test("an eBPF vmlinux lookalike is not the incident", async () => {
    const file = join(tmp, "lookalike.log");
    await writeFile(file, lookalikeLines.map((l) => l.text).join("\n") + "\n");
    const r = run(["logs", file, "-o", "json"]);
    assert.equal(r.code, 4);
    assert.match(r.stdout, /lookalike/);
  });
  const bad: [string, () => Promise<string>, RegExp][] = [
    ["missing file", () => Promise.resolve(join(tmp, "nope.log")), /nope\.log: no such file/],
    [
      "binary file",
      async () => {
        const f = join(tmp, "blob.bin");
        await writeFile(f, Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7) % 256)));
        return f;
      },
      /blob\.bin: .*binary/,
    ],
    [
      "truncated gzip",
      async () => {
        const f = join(tmp, "cut.log.gz");
        const whole = gzipSync(Buffer.from(stormLines.map((l) => l.text).join("\n")));
        await writeFile(f, whole.subarray(0, Math.floor(whole.length / 2)));
        return f;
      },
      /cut\.log\.gz: .*truncated/,
    ],
    [
      "a 50 MB line",
      async () => {
        const f = join(tmp, "long.log");
        await writeFile(
          f,
          `${stormLines[0]?.text ?? ""}\n${"x".repeat(50 * 1024 * 1024)}\n${stormLines[1]?.text ?? ""}\n`,
        );
        return f;
      },
      /long\.log: /,
    ],
  ];
  for (const [name, make, pattern] of bad) {
    test(`bad input: ${name} -> exit 2 and one line naming the file`, async () => {
      const r = run(["logs", await make()]);
      assert.equal(r.code, 2, r.stderr);
      assertOneCleanLine(r.stderr);
      assert.match(r.stderr, pattern);
    });
  }
});

describe("usage errors", () => {
  const cases: [string[], RegExp][] = [
    [["frobnicate"], /unknown command 'frobnicate'/],
    [["scan", "--bogus"], /bogus/],
    [["scan", "-o", "xml", "--bundle", "x"], /must be one of table, json, yaml, markdown/],
    [["scan", "--kubeconfig", "/nonexistent/kubeconfig"], /\/nonexistent\/kubeconfig: kubeconfig not found/],
    [["scan", "--since", "soon"], /--since: expected a duration/],
    [["scan", "--log-bytes", "lots"], /--log-bytes: expected a size/],
    [["collect"], /collect: give --output-dir DIR/],
    [["scan", "--bundle", "/nonexistent/dump"], /\/nonexistent\/dump: no such directory/],
    [["logs"], /at least one log file/],
    [["advisories", "show", "CNID-1999-9999"], /no advisory 'CNID-1999-9999'/],
    [["advisories", "validate", "/nonexistent.yaml"], /no such file/],
  ];
  for (const [args, pattern] of cases) {
    test(args.join(" "), () => {
      const r = run(args);
      assert.equal(r.code, 2);
      assertOneCleanLine(r.stderr);
      assert.match(r.stderr, pattern);
    });
  }
});

describe("advisories command", () => {
  test("list, show by alias, validate", () => {
    assert.match(run(["advisories", "list"]).stdout, /CNID-2024-0001/);
    const show = run(["advisories", "show", "projectcalico/calico#8856"]);
    assert.equal(show.code, 0);
    assert.match(show.stdout, /v3\.28\.1/);
    const v = run(["advisories", "validate", join(ROOT, "advisories/CNID-2024-0001.yaml")]);
    assert.equal(v.code, 0);
    assert.match(v.stdout, /ok \(CNID-2024-0001/);
  });
  test("help and version exit 0", () => {
    assert.equal(run(["help"]).code, 0);
    assert.match(run(["help", "scan"]).stdout, /--bundle/);
    assert.match(run(["version"]).stdout, /^cnidoctor \d+\.\d+\.\d+/);
  });
});

describe("plan, apply and alerts with two advisories loaded", () => {
  async function twoAdvisories(): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), "cnid-two-"));
    for (const f of ["CNID-2024-0001.yaml", "advisory.schema.json"])
      await cp(join(ROOT, "advisories", f), join(dir, f));
    await cp(join(ROOT, "src/analyze/testdata/CNID-2099-0001.yaml"), join(dir, "CNID-2099-0001.yaml"));
    return dir;
  }
  const ids = (stdout: string): string[] => {
    const p = JSON.parse(stdout) as { advisoryId: string } | { advisoryId: string }[];
    return (Array.isArray(p) ? p : [p]).map((x) => x.advisoryId);
  };

  test("plan picks what found something, or --advisory; alerts covers every loaded advisory", async () => {
    const dir = await twoAdvisories();
    try {
      const bundle = join(EXAMPLES, "rke1-canal-affected");
      // Only the incident found something there: one plan object, as with one advisory loaded.
      const found = run(["plan", "--bundle", bundle, "--advisories", dir, "-o", "json"]);
      assert.equal(found.code, 0, found.stderr);
      assert.deepEqual(ids(found.stdout), ["CNID-2024-0001"]);
      const chosen = run([
        "plan",
        "--bundle",
        bundle,
        "--advisories",
        dir,
        "--advisory",
        "CNID-2099-0001",
        "-o",
        "json",
      ]);
      assert.deepEqual(ids(chosen.stdout), ["CNID-2099-0001"]);
      // Nothing found on a healthy cluster: a plan per advisory, as a list.
      const healthy = run(["plan", "--bundle", join(EXAMPLES, "healthy"), "--advisories", dir, "-o", "json"]);
      assert.deepEqual(ids(healthy.stdout), ["CNID-2024-0001", "CNID-2099-0001"]);
      // No cluster: only advisories whose remediations a planner makes from a cluster.yml.
      const rke = run([
        "plan",
        "--rke-config",
        join(bundle, "cluster.yml"),
        "--advisories",
        dir,
        "-o",
        "json",
      ]);
      assert.deepEqual(ids(rke.stdout), ["CNID-2024-0001"]);
      const unknown = run([
        "plan",
        "--rke-config",
        join(bundle, "cluster.yml"),
        "--advisory",
        "CNID-1999-0001",
      ]);
      assert.equal(unknown.code, 2);
      assert.match(unknown.stderr, /advisory CNID-1999-0001 is not among the loaded advisories/);
      // apply on a cluster where no advisory found anything: nothing to do, not an ambiguity.
      const state = join(dir, "state");
      const calm = run([
        "apply",
        "--bundle",
        join(EXAMPLES, "healthy"),
        "--advisories",
        dir,
        "--output-dir",
        join(dir, "out"),
        "--state-dir",
        state,
        "--yes",
      ]);
      assert.equal(calm.code, 0, calm.stderr);
      assertOneCleanLine(calm.stderr);
      assert.match(
        calm.stderr,
        /nothing is affected or at risk \(CNID-2024-0001, CNID-2099-0001 checked\); nothing changed/,
      );
      assert.doesNotMatch(calm.stderr, /found something/);
      const rules = run(["alerts", "--advisories", dir]);
      assert.match(rules.stdout, /alert: CalicoXdpBtfRetryStorm/);
      assert.match(rules.stdout, /alert: FelixRouteSyncStorm/);
      const one = run(["alerts", "--advisories", dir, "--advisory", "CNID-2099-0001"]);
      assert.doesNotMatch(one.stdout, /CalicoXdp/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("CNID-2024-0002 on its example", () => {
  test("plan --advisory CNID-2024-0002: the RKE2 upgrade and the HelmChartConfig pin, with their diffs", () => {
    const r = run([
      "plan",
      "--advisory",
      "CNID-2024-0002",
      "--bundle",
      join(EXAMPLES, "rke2-canal-flannel-loop"),
      "-o",
      "json",
    ]);
    assert.equal(r.stderr, "");
    const plan = JSON.parse(r.stdout) as Plan;
    assert.equal(plan.advisoryId, "CNID-2024-0002");
    assert.deepEqual(
      plan.steps.map((s) => s.id),
      ["rke2-upgrade-flannel", "rke2-canal-flannel-image", "alert-rules"],
    );
    const [upgrade, pin] = plan.steps;
    assert.equal(upgrade?.diff, "- rke2 v1.28.8+rke2r1\n+ rke2 v1.28.9+rke2r1\n");
    assert.match(
      pin?.diff ?? "",
      /^\+\+\+ b\/var\/lib\/rancher\/rke2\/server\/manifests\/rke2-canal-config\.yaml$/m,
    );
    assert.match(pin?.diff ?? "", /^\+ +tag: v0\.24\.4-build20240321$/m);
    assert.equal(pin?.default, true);
  });

  test("advisories list shows both, each with its component's versions", () => {
    const r = run(["advisories", "list"]);
    assert.match(r.stdout, /^CNID-2024-0001 .*\[calico v3\.26\.5, v3\.27\.3, v3\.28\.0\]$/m);
    assert.match(
      r.stdout,
      /^CNID-2024-0002 +low +flannel v0\.24\.3 IPv6 iptables-restore loop .*\[flannel v0\.24\.3\]$/m,
    );
  });
});
