// --kdm end to end through the built binary: a URL fetched once from a local 127.0.0.1 server
// (with its timeout and cache file), nothing fetched unless asked, bad files as one line and exit
// 2, and scan/plan reading the same extended tables as check.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { createServer, type Server } from "node:http";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Report } from "../model/finding.js";
import type { ManualStep, Plan } from "../model/plan.js";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const BIN = join(ROOT, "dist/src/cli/bin.js");
const NEWER = join(ROOT, "test/fixtures/kdm/kdm-generated-newer.json");
const RKE2_BUNDLE = join(ROOT, "examples/rke2-calico-at-risk");

/** Runs the CLI without blocking this process, so the test's HTTP server can answer it. */
function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      { env: { ...process.env, NO_COLOR: "1", KUBECONFIG: "", CNIDOCTOR_KDM: "" }, maxBuffer: 64 << 20 },
      (err, stdout, stderr) => {
        const code = err === null ? 0 : typeof err.code === "number" ? err.code : -1;
        done({ code, stdout, stderr });
      },
    );
  });
}

function oneLine(stderr: string, pattern: RegExp): void {
  const lines = stderr.trim().split("\n");
  assert.equal(lines.length, 1, stderr);
  assert.match(lines[0] ?? "", /^cnidoctor: /);
  assert.match(lines[0] ?? "", pattern);
}

let server: Server;
let base = "";
let requests: string[] = [];
let tmp = "";
const body = await readFile(NEWER, "utf8");

before(async () => {
  tmp = await mkdtemp(join(tmpdir(), "cnidoctor-kdm-"));
  server = createServer((req, res) => {
    requests.push(req.url ?? "");
    if (req.url === "/hang") return; // never answers: the --kdm-timeout case
    if (req.url === "/data.json") {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(body);
      return;
    }
    res.writeHead(404);
    res.end("no");
  });
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
  server.closeAllConnections();
  await new Promise<void>((ok) => server.close(() => ok()));
  await rm(tmp, { recursive: true, force: true });
});

describe("--kdm URL", () => {
  test("fetched once, taught the new release, and cached to the --kdm-cache file", async () => {
    requests = [];
    const cache = join(tmp, "kdm-cache.json");
    const r = await run([
      "check",
      "--rke2",
      "v1.32.1+rke2r1",
      "--cni",
      "calico",
      "--kdm",
      `${base}/data.json`,
      "--kdm-cache",
      cache,
    ]);
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stdout, /AFFECTED\s+rke2 v1\.32\.1\+rke2r1/);
    assert.deepEqual(requests, ["/data.json"]);
    assert.equal(await readFile(cache, "utf8"), body);
    // The cache is the offline copy: the same answer from the file, no request.
    const offline = await run(["check", "--rke2", "v1.32.1+rke2r1", "--cni", "calico", "--kdm", cache]);
    assert.equal(offline.code, 3);
    assert.deepEqual(requests, ["/data.json"]);
  });

  test("a server that does not answer: one line naming the timeout, exit 2", async () => {
    const r = await run([
      "check",
      "--rke2",
      "v1.30.2+rke2r1",
      "--kdm",
      `${base}/hang`,
      "--kdm-timeout",
      "1s",
    ]);
    assert.equal(r.code, 2);
    oneLine(r.stderr, /--kdm http:\/\/127\.0\.0\.1:\d+\/hang: no answer within 1s/);
  });

  test("HTTP 404: one line, exit 2", async () => {
    const r = await run(["check", "--rke2", "v1.30.2+rke2r1", "--kdm", `${base}/missing`]);
    assert.equal(r.code, 2);
    oneLine(r.stderr, /HTTP 404/);
  });

  test("nothing is fetched unless asked", async () => {
    requests = [];
    const r = await run(["check", "--rke2", "v1.32.1+rke2r1", "--cni", "calico"]);
    assert.equal(r.code, 4, "unknown without the KDM file");
    const s = await run(["scan", "--bundle", RKE2_BUNDLE, "-o", "json"]);
    assert.equal(s.code, 3);
    assert.deepEqual(requests, []);
  });
});

describe("bad KDM files: one line, exit 2", () => {
  for (const [name, text, pattern] of [
    ["malformed.json", "{ not json", /malformed\.json: not JSON/],
    ["unrelated.json", '{"apiVersion": "v1", "kind": "ConfigMap"}', /unrelated\.json: not a Rancher KDM/],
    [
      "empty-kdm.json",
      '{"K8sVersionRKESystemImages": {}}',
      /holds no RKE1 system images and no RKE2 releases/,
    ],
  ] as const) {
    test(name, async () => {
      const path = join(tmp, name);
      await writeFile(path, text);
      for (const cmd of [
        ["check", "--rke2", "v1.30.2+rke2r1"],
        ["scan", "--bundle", RKE2_BUNDLE],
        ["plan", "--bundle", RKE2_BUNDLE],
      ]) {
        const r = await run([...cmd, "--kdm", path]);
        assert.equal(r.code, 2, `${cmd[0] ?? ""}: ${r.stderr}`);
        oneLine(r.stderr, pattern);
      }
    });
  }
});

describe("scan and plan read --kdm and --rancher like check", () => {
  test("scan: the platform section judges the cluster's release, says the file was used and where it won", async () => {
    const r = await run([
      "scan",
      "--bundle",
      RKE2_BUNDLE,
      "--kdm",
      NEWER,
      "--rancher",
      "v2.10.0",
      "-o",
      "json",
    ]);
    const report = JSON.parse(r.stdout) as Report;
    const p = report.platform;
    assert.ok(p, "platform section");
    assert.equal(p.kdm?.origin, `--kdm ${NEWER}`);
    assert.ok(p.kdm?.overrides.some((o) => o.startsWith("RKE1 v1.31.1-rancher1-1")));
    assert.equal(p.rancher?.version, "v2.10.0");
    assert.equal(p.rancher?.provisioning, "provisioned");
    const gate = p.gate.find((g) => g.checked === "RKE2 v1.30.3+rke2r1 (rke2-calico)");
    assert.equal(gate?.verdict, "affected");
    assert.equal(gate?.fixed?.version, "v1.30.5+rke2r1");
  });

  test("plan: the upgrade target follows the Rancher version; the KDM note is in the plan", async () => {
    const target = async (rancher: string): Promise<string> => {
      const r = await run([
        "plan",
        "--bundle",
        RKE2_BUNDLE,
        "--rancher",
        rancher,
        "--kdm",
        NEWER,
        "-o",
        "json",
      ]);
      const plan = JSON.parse(r.stdout) as Plan;
      assert.match(plan.notes.join("\n"), /Version tables extended by --kdm .*the file wins/);
      return plan.steps.find((s): s is ManualStep => s.id === "rke2-upgrade")?.title ?? "";
    };
    assert.match(await target("v2.9.1"), /to v1\.30\.4\+rke2r1/);
    assert.match(await target("v2.10.0"), /to v1\.30\.5\+rke2r1/);
  });

  test("a --rancher that is not a version: one line, exit 2", async () => {
    const r = await run(["plan", "--bundle", RKE2_BUNDLE, "--rancher", "latest"]);
    assert.equal(r.code, 2);
    oneLine(r.stderr, /--rancher: 'latest' is not a Rancher version/);
  });
});

describe("README: the check examples run as documented", () => {
  test("every `cnidoctor check` line of the check section that needs no file answers 0 or 3", async () => {
    const readme = await readFile(join(ROOT, "README.md"), "utf8");
    const section = readme.slice(readme.indexOf("### Before an upgrade: `cnidoctor check`"));
    const lines = [...section.matchAll(/^cnidoctor (check [^#\n]+?)\s*(#.*)?$/gm)]
      .map((m) => (m[1] ?? "").trim())
      .filter((l) => !l.includes("--rke-config") && !l.includes("--kdm"));
    assert.ok(lines.length >= 4, lines.join("\n"));
    for (const line of lines) {
      const r = await run(line.split(/\s+/));
      assert.ok(r.code === 0 || r.code === 3, `${line}: exit ${String(r.code)} ${r.stderr}`);
    }
    const rke2 = await run(["check", "--rke2", "v1.30.2+rke2r1", "--cni", "calico", "--rancher", "v2.10.0"]);
    assert.match(rke2.stdout, /smallest fixed: v1\.30\.5\+rke2r1/);
  });
});
