// `scan --all-contexts` against fake API servers in one merged kubeconfig: one answers (nodes of
// an example bundle), one accepts connections and never answers (a stopped API server), one
// refuses the credentials (401), and one context's exec credential plugin fails. The three bad
// ones are gaps with their reason; the good one's report is the one a single scan prints.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer as createNetServer, type Server as NetServer, type Socket } from "node:net";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const BIN = join(ROOT, "dist/src/cli/bin.js");
const NODES = join(ROOT, "examples/rke1-canal-affected/nodes.json");

let dir = "";
let good: Server | undefined;
let refusing: Server | undefined;
let silent: NetServer | undefined;
/** The stopped server's open connections, ended at the end so it can close. */
const silentSockets: Socket[] = [];
/** When the good server last answered (0: never), to tell when its cluster is done. */
let goodLastAnswer = 0;

function portOf(s: Server | NetServer): number {
  return (s.address() as { port: number }).port;
}

async function listen<S extends Server | NetServer>(s: S): Promise<S> {
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  return s;
}

function run(
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      { env: { PATH: process.env.PATH, HOME: dir, ...env }, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr });
      },
    );
  });
}

const context = (name: string, cluster: string, user: string): string =>
  `- {name: ${name}, context: {cluster: ${cluster}, user: ${user}}}`;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "cnid-fleet-cli-"));
  const nodes = await readFile(NODES, "utf8");
  const empty = JSON.stringify({ kind: "List", apiVersion: "v1", metadata: {}, items: [] });
  good = await listen(
    createServer((req, res) => {
      goodLastAnswer = Date.now();
      res.writeHead(200, { "content-type": "application/json", connection: "close" });
      res.end((req.url ?? "").startsWith("/api/v1/nodes") ? nodes : empty);
    }),
  );
  refusing = await listen(
    createServer((_req, res) => {
      res.writeHead(401, { "content-type": "application/json", connection: "close" });
      res.end(JSON.stringify({ kind: "Status", status: "Failure", message: "Unauthorized", code: 401 }));
    }),
  );
  // Accepts the connection and never answers: what a SIGSTOPped API server looks like.
  silent = await listen(
    createNetServer((socket) => {
      silentSockets.push(socket);
    }),
  );
  const server = (s: Server | NetServer): string => `http://127.0.0.1:${portOf(s)}`;
  // Two files, as $KUBECONFIG lists them: the second's `good` entries lose to the first's.
  await writeFile(
    join(dir, "a.kubeconfig"),
    [
      "apiVersion: v1",
      "kind: Config",
      "clusters:",
      `- {name: good, cluster: {server: '${server(good)}', insecure-skip-tls-verify: true}}`,
      `- {name: silent, cluster: {server: '${server(silent)}', insecure-skip-tls-verify: true}}`,
      "users:",
      "- {name: u, user: {token: t}}",
      "contexts:",
      context("good", "good", "u"),
      context("stopped", "silent", "u"),
      "current-context: good",
      "",
    ].join("\n"),
  );
  await writeFile(
    join(dir, "b.kubeconfig"),
    [
      "apiVersion: v1",
      "kind: Config",
      "clusters:",
      `- {name: good, cluster: {server: 'http://127.0.0.1:1'}}`,
      `- {name: refusing, cluster: {server: '${server(refusing)}', insecure-skip-tls-verify: true}}`,
      "users:",
      "- {name: u, user: {token: other}}",
      "- {name: broken, user: {exec: {apiVersion: client.authentication.k8s.io/v1, command: /bin/false, interactiveMode: Never}}}",
      "contexts:",
      context("good", "refusing", "u"),
      context("refused", "refusing", "u"),
      context("no-credentials", "good", "broken"),
      "",
    ].join("\n"),
  );
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
  for (const socket of silentSockets) socket.destroy();
  good?.closeAllConnections();
  refusing?.closeAllConnections();
  await Promise.all(
    [good, refusing, silent].map((s) => new Promise<void>((r) => (s ? s.close(() => r()) : r()))),
  );
});

interface FleetJson {
  kind: string;
  summary: { clusters: number; worstExitCode: number };
  clusters: {
    context: string;
    outcome: string;
    exitCode: number;
    gap?: { reason: string; message: string };
    report?: Record<string, unknown>;
  }[];
}

function withoutTime(report: unknown): unknown {
  const r = { ...(report as Record<string, unknown>) };
  delete r.generatedAt;
  return r;
}

test("a fleet scan: stopped, refused and credential-less clusters are gaps; the good one is its single scan", async () => {
  const kubeconfig = `${join(dir, "a.kubeconfig")}:${join(dir, "b.kubeconfig")}`;
  const bounds = ["--request-timeout", "1s", "--timeout", "15s"];
  const fleet = await run(["scan", "--all-contexts", "-o", "json", ...bounds], { KUBECONFIG: kubeconfig });
  assert.equal(fleet.code, 4, fleet.stderr);
  const doc = JSON.parse(fleet.stdout) as FleetJson;
  assert.equal(doc.kind, "fleet");
  assert.deepEqual(
    doc.clusters.map((c) => [c.context, c.outcome, c.gap?.reason]),
    [
      ["good", "scanned", undefined],
      ["no-credentials", "gap", "credentials"],
      ["refused", "gap", "forbidden"],
      ["stopped", "gap", "timeout"],
    ],
  );
  // A gap counts 4, worse than the clean cluster's 0.
  assert.equal(doc.summary.worstExitCode, 4);
  assert.deepEqual(
    doc.clusters.map((c) => c.exitCode),
    [0, 4, 4, 4],
  );
  // The stopped server cost its overall --timeout: the recorded reason says so.
  assert.match(doc.clusters[3]?.gap?.message ?? "", /TIMEOUT|overall --timeout of 15 s/);
  // Its own overall --timeout also bounds resolving its credentials: generous, for a loaded machine.
  const single = await run(
    ["scan", "--context", "good", "-o", "json", "--request-timeout", "1s", "--timeout", "60s"],
    {
      KUBECONFIG: join(dir, "a.kubeconfig"),
    },
  );
  assert.equal(single.code, 0, single.stderr);
  assert.deepEqual(withoutTime(doc.clusters[0]?.report), withoutTime(JSON.parse(single.stdout)));
});

test("$KUBECONFIG with several files: --context picks from their merge, as kubectl does", async () => {
  const env = { KUBECONFIG: `${join(dir, "a.kubeconfig")}:${join(dir, "b.kubeconfig")}` };
  const refused = await run(["scan", "--context", "refused", "-o", "json"], env);
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, /unauthorized/, "the second file's context was used");
  const missing = await run(["scan", "--context", "nope"], env);
  assert.equal(missing.code, 2);
  assert.match(
    missing.stderr,
    /context 'nope' is not in .*a\.kubeconfig:.*b\.kubeconfig \(contexts: good, stopped, refused, no-credentials\)/,
  );
});

test("fleet selectors: a list and a glob pick by name; bad usage is exit 2", async () => {
  const env = { KUBECONFIG: join(dir, "b.kubeconfig") };
  const listed = await run(["scan", "--contexts", "refused,refused", "-o", "json"], env);
  assert.deepEqual(
    (JSON.parse(listed.stdout) as FleetJson).clusters.map((c) => c.context),
    ["refused"],
  );
  const globbed = await run(["scan", "--context-pattern", "re*", "-o", "json"], env);
  assert.deepEqual(
    (JSON.parse(globbed.stdout) as FleetJson).clusters.map((c) => c.context),
    ["refused"],
  );
  for (const args of [
    ["--contexts", "nope"],
    ["--context-pattern", "zz*"],
    ["--all-contexts", "--contexts", "good"],
    ["--all-contexts", "--context", "good"],
    ["--all-contexts", "--bundle", dir],
    ["--all-contexts", "--clusters-concurrency", "0"],
    ["--context", "good", "--clusters-concurrency", "2"],
  ]) {
    const r = await run(["scan", ...args], env);
    assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, /^cnidoctor: /);
  }
});

test("Ctrl-C: the finished clusters are reported, the rest listed as not finished, exit 4", async () => {
  const child = spawn(
    process.execPath,
    [
      BIN,
      "scan",
      "--contexts",
      "good,stopped",
      "-o",
      "json",
      "--request-timeout",
      "60s",
      "--timeout",
      "120s",
    ],
    { env: { PATH: process.env.PATH, HOME: dir, KUBECONFIG: join(dir, "a.kubeconfig") } },
  );
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  // Ctrl-C once the good cluster is done (its server quiet for a while); the stopped one would
  // take minutes.
  goodLastAnswer = 0;
  while (goodLastAnswer === 0 || Date.now() - goodLastAnswer < 2000)
    await new Promise((r) => setTimeout(r, 100));
  const t0 = Date.now();
  child.kill("SIGINT");
  const code = await new Promise<number | null>((r) => child.on("close", r));
  assert.equal(code, 4, stderr);
  assert.ok(Date.now() - t0 < 30_000, "ended soon after Ctrl-C");
  const doc = JSON.parse(stdout) as FleetJson;
  assert.deepEqual(
    doc.clusters.map((c) => [c.context, c.outcome]),
    [
      ["good", "scanned"],
      ["stopped", "interrupted"],
    ],
  );
  assert.match(stderr, /interrupted: not finished \(1\): stopped/);
});

test("collect a fleet into one directory of bundles, then scan that directory as the fleet", async () => {
  const env = { KUBECONFIG: `${join(dir, "a.kubeconfig")}:${join(dir, "b.kubeconfig")}` };
  const out = join(dir, "fleet-bundles");
  const collected = await run(["collect", "--contexts", "good,refused", "--output-dir", out], env);
  assert.equal(collected.code, 4, collected.stderr);
  assert.match(collected.stdout, /^good: wrote .*fleet-bundles\/good: 4 nodes/m);
  assert.match(collected.stdout, /^refused: not collected \(forbidden\): /m);
  const scanned = await run(["scan", "--bundle", out, "-o", "json"], env);
  assert.equal(scanned.code, 0, scanned.stderr);
  const doc = JSON.parse(scanned.stdout) as FleetJson;
  assert.deepEqual(
    doc.clusters.map((c) => [c.context, c.outcome]),
    [["good", "scanned"]],
  );
  const again = await run(["collect", "--contexts", "good", "--output-dir", out], env);
  assert.equal(again.code, 4, "an earlier bundle is not replaced without --force");
  assert.match(again.stdout, /not empty \(pass --force/);
  const forced = await run(["collect", "--contexts", "good", "--output-dir", out, "--force"], env);
  assert.equal(forced.code, 0, forced.stdout + forced.stderr);
});

test("apply is one cluster at a time: fleet selectors are bad usage", async () => {
  const r = await run(["apply", "--all-contexts", "--advisory", "CNID-2024-0001"], {
    KUBECONFIG: join(dir, "a.kubeconfig"),
  });
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /apply changes one cluster at a time/);
});

test("plan over a directory of bundles: clusters grouped by the change they need", async () => {
  const r = await run(["plan", "--bundle", join(ROOT, "examples")]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(
    r.stdout,
    /^\d+ clusters \([^)]*\bebpf-lookalike, healthy, [^)]*\brke2-canal-xdp-off\): nothing affected or at risk/m,
  );
  assert.match(
    r.stdout,
    /^1 cluster \(rke2-calico-at-risk\): Upgrade RKE2 v1\.30\.3\+rke2r1 to v1\.30\.4\+rke2r1/m,
  );
  const json = JSON.parse((await run(["plan", "--bundle", join(ROOT, "examples"), "-o", "json"])).stdout) as {
    kind: string;
    clusters: { context: string; plans: unknown[] }[];
  };
  assert.equal(json.kind, "fleet-plan");
  const bundles = readdirSync(join(ROOT, "examples"), { withFileTypes: true }).filter(
    (e) => e.isDirectory() && existsSync(join(ROOT, "examples", e.name, "nodes.json")),
  );
  assert.equal(json.clusters.length, bundles.length);
});

test("a hanging exec credential plugin costs its context the credentials timeout, and is not left running", async () => {
  const pidFile = join(dir, "plugin.pid");
  await writeFile(
    join(dir, "hang.kubeconfig"),
    [
      "apiVersion: v1",
      "kind: Config",
      "clusters: [{name: c, cluster: {server: 'https://127.0.0.1:1'}}]",
      `users: [{name: u, user: {exec: {apiVersion: client.authentication.k8s.io/v1, command: /bin/sh, args: ['-c', 'echo $$ > ${pidFile}; exec sleep 1000'], interactiveMode: Never}}}]`,
      "contexts: [{name: hang, context: {cluster: c, user: u}}]",
      "",
    ].join("\n"),
  );
  const r = await run([
    "scan",
    "--all-contexts",
    "--kubeconfig",
    join(dir, "hang.kubeconfig"),
    "--request-timeout",
    "1s",
    "-o",
    "json",
  ]);
  assert.equal(r.code, 4, r.stderr);
  const doc = JSON.parse(r.stdout) as FleetJson;
  assert.equal(doc.clusters[0]?.gap?.reason, "credentials");
  assert.match(doc.clusters[0]?.gap?.message ?? "", /did not finish within 16 s/);
  const pid = Number((await readFile(pidFile, "utf8")).trim());
  // Killed with the loader's group; its zombie is reaped by init a moment later.
  const alive = (): boolean => {
    try {
      process.kill(pid, 0);
      return !/\) Z /.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
    } catch {
      return false;
    }
  };
  for (let i = 0; i < 50 && alive(); i++) await new Promise((res) => setTimeout(res, 100));
  assert.equal(alive(), false, "the plugin was ended with the loader");
});
