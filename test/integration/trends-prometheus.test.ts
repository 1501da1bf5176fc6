// --prometheus against a real Prometheus (Debian's 2.42) holding series the project generated and
// backfilled with promtool: the collector reads cAdvisor- and kube-state-metrics-shaped series,
// `scan --bundle … --prometheus` puts the leak and CPU evidence on the right nodes without changing
// a status, a bearer token from a file reaches the server, an unreachable server is a coverage gap,
// and the HTML report renders in headless Chromium (the screenshot is kept in test-artifacts/).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { createServer, request } from "node:http";
import type { Server } from "node:http";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { collectPrometheus } from "../../src/collect/prometheus/collect.js";
import type { Report } from "../../src/model/finding.js";
import { backfill, startPrometheus } from "../../scripts/trends/prometheus.js";
import { freePort } from "../../scripts/cluster/ports.js";
import type { RawSeries, RunningPrometheus } from "../../scripts/trends/prometheus.js";

const run = promisify(execFile);
const ROOT = resolve(fileURLToPath(new URL("../../..", import.meta.url)));
const CLI = join(ROOT, "dist/src/cli/bin.js");
const BUNDLE = join(ROOT, "examples/rke1-canal-affected");
const ARTIFACTS = join(ROOT, "test-artifacts");
const MIB = 1024 * 1024;
const HOURS = 12;
const STEP = 60;

// The example bundle's calico-node pods: wk-01/wk-03 are affected (log signature), cp-01/wk-02 at risk.
const PODS = {
  "rke1-cp-01": "canal-2flk7",
  "rke1-wk-01": "canal-7p6r9",
  "rke1-wk-02": "canal-qg96n",
  "rke1-wk-03": "canal-76kxm",
} as const;
type NodeName = keyof typeof PODS;

let tmp = "";
let prom: RunningPrometheus | undefined;
const end = Math.floor(Date.now() / 1000 / 60) * 60 - 60;

/** Deterministic wobble of a few MiB. */
function wobble(i: number): number {
  return ((i * 7919) % 11) - 5 + 3 * Math.sin(i / 4);
}

function shapes(node: NodeName): {
  mem: (h: number, i: number) => number;
  cores: number;
  restartEvery?: number;
} {
  switch (node) {
    case "rke1-wk-02": // at risk, and leaking fast with a hot CPU: the case to call out
      return { mem: (h, i) => 190 + 120 * h + wobble(i), cores: 0.87 };
    case "rke1-wk-01": // affected; leaks then restarts every 5 h (a sawtooth)
      return { mem: (h, i) => 120 + 40 * (h % 5) + wobble(i), cores: 0.6, restartEvery: 5 };
    default:
      return { mem: (_h, i) => 96 + wobble(i), cores: 0.028 };
  }
}

function rawSeries(): RawSeries[] {
  const out: RawSeries[] = [];
  const n = (HOURS * 3600) / STEP;
  const start = end - n * STEP;
  for (const [node, pod] of Object.entries(PODS) as [NodeName, string][]) {
    const s = shapes(node);
    // cp-01 has no node label, only the kubelet's instance: the collector must map it.
    const where: Record<string, string> =
      node === "rke1-cp-01"
        ? { instance: `${node}:10250` }
        : { node, instance: `10.0.0.${String(node.length)}:10250` };
    const labels = { container: "calico-node", pod, namespace: "kube-system", job: "kubelet", ...where };
    const mem: [number, number][] = [];
    const cpu: [number, number][] = [];
    const restarts: [number, number][] = [];
    let cpuTotal = 0;
    for (let i = 0; i <= n; i++) {
      const t = start + i * STEP;
      const h = (i * STEP) / 3600;
      mem.push([t, Math.round(s.mem(h, i) * MIB)]);
      cpuTotal += s.cores * STEP * (1 + 0.1 * Math.sin(i));
      cpu.push([t, Math.round(cpuTotal * 1000) / 1000]);
      if (s.restartEvery !== undefined) restarts.push([t, Math.floor(h / s.restartEvery)]);
    }
    out.push({ name: "container_memory_working_set_bytes", type: "gauge", labels, samples: mem });
    out.push({ name: "container_cpu_usage_seconds_total", type: "counter", labels, samples: cpu });
    if (restarts.length > 0)
      out.push({
        name: "kube_pod_container_status_restarts_total",
        type: "counter",
        labels: { container: "calico-node", pod, namespace: "kube-system", instance: "10.42.0.9:8080" },
        samples: restarts,
      });
  }
  return out;
}

function url(): string {
  assert.ok(prom, "prometheus did not start");
  return prom.url;
}

async function cli(args: string[]): Promise<{ stdout: string; code: number }> {
  try {
    const { stdout } = await run("node", [CLI, ...args], {
      maxBuffer: 64 * 1024 * 1024,
      env: { ...process.env, NO_COLOR: "1" },
    });
    return { stdout, code: 0 };
  } catch (e) {
    const err = e as { stdout?: string; code?: number; stderr?: string };
    if (typeof err.code !== "number") throw e;
    return { stdout: err.stdout ?? "", code: err.code };
  }
}

before(
  async () => {
    tmp = mkdtempSync(join(tmpdir(), "it-trends-prom-"));
    const files = await backfill(join(tmp, "om"), join(tmp, "data"), rawSeries());
    assert.ok(files >= HOURS / 2, `only ${String(files)} window files`);
    prom = await startPrometheus(tmp, join(tmp, "data"));
  },
  { timeout: 180_000 },
);

after(async () => {
  await prom?.stop();
  if (tmp !== "") rmSync(tmp, { recursive: true, force: true });
});

test("the collector reads CPU rates, memory and restarts per pod, and names the missing OOM metric", async () => {
  const result = await collectPrometheus({
    target: { url: url() },
    container: "calico-node",
    windowSeconds: 24 * 3600,
    now: new Date((end + 30) * 1000),
  });
  const of = (metric: string): string[] =>
    result.series
      .filter((s) => s.metric === metric)
      .map((s) => `${s.node}/${s.pod}`)
      .sort();
  const expected = Object.entries(PODS)
    .map(([n, p]) => `${n}/${p}`)
    .sort();
  // cp-01 only had an instance label; wk-* had node labels that win over their IP instance.
  assert.deepEqual(of("memory-working-set-bytes"), expected);
  assert.deepEqual(of("cpu-cores"), expected);
  assert.deepEqual(of("restarts"), ["/canal-7p6r9"], "kube-state-metrics' instance is not the node");
  const hotCpu = result.series.find((s) => s.metric === "cpu-cores" && s.pod === PODS["rke1-wk-02"]);
  const lastCores = hotCpu?.samples.at(-1)?.value ?? 0;
  assert.ok(Math.abs(lastCores - 0.87) < 0.05, `rate of the counter: ${String(lastCores)} cores`);
  assert.ok((hotCpu?.samples.length ?? 0) > 100);
  assert.deepEqual(
    result.gaps.map((g) => [g.check, g.optional === true, /container_oom_events_total/.test(g.reason)]),
    [["resource-restarts", true, true]],
  );
});

/** The sawtooth on wk-01 is a leak of about 40 MiB/h split at its restarts, not a flat line. */
function checkSawtooth(v: Report["verdicts"][number]["verdicts"][number] | undefined): void {
  const mem = v?.evidence.find((e) => e.data?.resource === "memory");
  assert.equal(mem?.data?.outlier, true);
  assert.ok(Math.abs(Number(mem?.data?.slopeMiBPerHour) - 40) < 4, JSON.stringify(mem?.data));
  assert.ok(Number(mem?.data?.segments) >= 3);
  assert.ok(v?.evidence.some((e) => e.data?.resource === "restarts" && e.data.restarts === 2));
}

test("scan --bundle --prometheus: evidence on the right nodes, statuses unchanged, at-risk leak called out", async () => {
  const { stdout, code } = await cli([
    "scan",
    "--bundle",
    BUNDLE,
    "--prometheus",
    url(),
    "--window",
    "24h",
    "-o",
    "json",
  ]);
  assert.equal(code, 3);
  const report = JSON.parse(stdout) as Report;
  const verdicts = report.verdicts.find((g) => g.advisoryId === "CNID-2024-0001")?.verdicts ?? [];
  const by = (n: string): (typeof verdicts)[number] | undefined => verdicts.find((v) => v.subject === n);
  assert.deepEqual(
    verdicts.map((v) => [v.subject, v.status]),
    [
      ["rke1-cp-01", "at-risk"],
      ["rke1-wk-01", "affected"],
      ["rke1-wk-02", "at-risk"],
      ["rke1-wk-03", "affected"],
    ],
  );
  const wk2 = by("rke1-wk-02");
  assert.ok(
    wk2?.reasons.some((r) => /^resource symptom: calico-node memory grows 1[12]\d\.\d MiB\/h/.test(r)),
    wk2?.reasons.join("\n"),
  );
  const mem2 = wk2?.evidence.find((e) => e.data?.resource === "memory");
  assert.equal(mem2?.data?.outlier, true);
  assert.ok(Number(mem2?.data?.slopeLowMiBPerHour) > 100 && Number(mem2?.data?.slopeHighMiBPerHour) < 140);
  const cpu2 = wk2?.evidence.find((e) => e.data?.resource === "cpu");
  assert.ok(Number(cpu2?.data?.cpuPeerRatio) > 10, JSON.stringify(cpu2?.data));
  checkSawtooth(by("rke1-wk-01"));
  const cp = by("rke1-cp-01");
  assert.ok(!cp?.reasons.some((r) => r.includes("resource symptom")));
  assert.equal(cp?.evidence.find((e) => e.data?.resource === "memory")?.data?.outlier, false);
  assert.ok(report.coverage.some((c) => c.check === "resource-usage" && c.status === "evaluated"));
  assert.equal(report.trends?.length, 4);
});

test("the bearer token from --prometheus-token-file reaches the server", async () => {
  const dir = mkdtempSync(join(tmpdir(), "it-trends-token-"));
  const tokenFile = join(dir, "token");
  writeFileSync(tokenFile, "s3cret-token\n", { mode: 0o600 });
  const target = new URL(url());
  const seen: string[] = [];
  // A gate in front of the real server that only lets the right bearer token through.
  const gate: Server = createServer((req, res) => {
    seen.push(req.headers.authorization ?? "");
    if (req.headers.authorization !== "Bearer s3cret-token") {
      res.writeHead(401).end("unauthorized");
      return;
    }
    const upstream = request(
      {
        host: target.hostname,
        port: target.port,
        path: req.url,
        method: req.method,
        headers: { accept: "application/json" },
      },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    upstream.on("error", () => res.writeHead(502).end());
    upstream.end();
  });
  const port = await freePort();
  await new Promise<void>((r) => gate.listen(port, "127.0.0.1", r));
  try {
    const gated = `http://127.0.0.1:${String(port)}`;
    const ok = await cli([
      "scan",
      "--bundle",
      BUNDLE,
      "--prometheus",
      gated,
      "--prometheus-token-file",
      tokenFile,
      "-o",
      "json",
    ]);
    const okReport = JSON.parse(ok.stdout) as Report;
    assert.ok(okReport.coverage.some((c) => c.check === "resource-usage" && c.status === "evaluated"));
    assert.ok(seen.length > 0 && seen.every((h) => h === "Bearer s3cret-token"));
    const refused = await cli(["scan", "--bundle", BUNDLE, "--prometheus", gated, "-o", "json"]);
    const gap = (JSON.parse(refused.stdout) as Report).coverage.find((c) => c.check === "resource-usage");
    assert.equal(gap?.status, "not-evaluated");
    assert.match(gap?.reason ?? "", /HTTP 401.*--prometheus-token-file/);
  } finally {
    await new Promise((r) => gate.close(r));
    rmSync(dir, { recursive: true, force: true });
  }
});

test("an unreachable Prometheus is a material coverage gap, never a pass", async () => {
  const closed = await freePort();
  const { stdout } = await cli([
    "scan",
    "--bundle",
    join(ROOT, "examples/healthy"),
    "--prometheus",
    `http://127.0.0.1:${String(closed)}`,
    "-o",
    "json",
  ]);
  const report = JSON.parse(stdout) as Report;
  const gap = report.coverage.find((c) => c.check === "resource-usage");
  assert.equal(gap?.status, "not-evaluated");
  assert.equal(gap?.material, true);
  assert.match(gap?.reason ?? "", /ECONNREFUSED/);
  assert.equal(report.trends, undefined);
});

function pngSize(file: string): { width: number; height: number; bytes: number } {
  const buf = readFileSync(file);
  assert.equal(buf.subarray(1, 4).toString("latin1"), "PNG");
  return { width: buf.readUInt32BE(16), height: buf.readUInt32BE(20), bytes: buf.length };
}

test(
  "-o html renders in headless Chromium with per-node charts; screenshot kept in test-artifacts/",
  { timeout: 120_000 },
  async () => {
    const { stdout } = await cli(["scan", "--bundle", BUNDLE, "--prometheus", url(), "-o", "html"]);
    assert.doesNotMatch(stdout, /(src|href)="https?:/i, "self-contained: nothing to fetch");
    assert.doesNotMatch(stdout, /<script/i);
    mkdirSync(ARTIFACTS, { recursive: true });
    const html = join(ARTIFACTS, "trends-report.html");
    const png = join(ARTIFACTS, "trends-report.png");
    writeFileSync(html, stdout);
    rmSync(png, { force: true });
    const profile = mkdtempSync(join(tmpdir(), "it-trends-chromium-"));
    const flags = [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
      `--user-data-dir=${profile}`,
    ];
    try {
      await run("chromium", [...flags, "--window-size=1320,2200", `--screenshot=${png}`, `file://${html}`], {
        timeout: 90_000,
      });
      const size = pngSize(png);
      assert.equal(size.width, 1320);
      assert.ok(size.bytes > 30_000, `screenshot is ${String(size.bytes)} bytes: too plain to hold charts`);
      const { stdout: dom } = await run("chromium", [...flags, "--dump-dom", `file://${html}`], {
        timeout: 90_000,
        maxBuffer: 64 * 1024 * 1024,
      });
      assert.equal((dom.match(/<div class="card"/g) ?? []).length, 4);
      assert.ok((dom.match(/<svg/g) ?? []).length >= 12);
      assert.match(dom, /AFFECTED/);
    } finally {
      rmSync(profile, { recursive: true, force: true });
    }
  },
);
