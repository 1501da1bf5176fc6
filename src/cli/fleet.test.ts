// `scan --all-contexts` against fake API servers in one merged kubeconfig: one answers (nodes of
// an example bundle), one accepts connections and never answers (a stopped API server), one
// refuses the credentials (401), and one context's exec credential plugin fails. The three bad
// ones are gaps with their reason; the good one's report is the one a single scan prints.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer as createNetServer, type Server as NetServer } from "node:net";
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
  dir = await mkdtemp(join(tmpdir(), "cnidoctor-fleet-"));
  const nodes = await readFile(NODES, "utf8");
  const empty = JSON.stringify({ kind: "List", apiVersion: "v1", metadata: {}, items: [] });
  good = await listen(
    createServer((req, res) => {
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
  silent = await listen(createNetServer(() => undefined));
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
  good?.closeAllConnections();
  refusing?.closeAllConnections();
  await Promise.all(
    [good, refusing, silent].map((s) => new Promise<void>((r) => (s ? s.close(() => r()) : r()))),
  );
  await rm(dir, { recursive: true, force: true });
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
  const bounds = ["--request-timeout", "1s", "--timeout", "3s"];
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
  assert.match(doc.clusters[3]?.gap?.message ?? "", /TIMEOUT|overall --timeout of 3 s/);
  const single = await run(["scan", "--context", "good", "-o", "json", ...bounds], {
    KUBECONFIG: join(dir, "a.kubeconfig"),
  });
  assert.equal(single.code, 0, single.stderr);
  assert.deepEqual(withoutTime(doc.clusters[0]?.report), withoutTime(JSON.parse(single.stdout)));
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
  ]) {
    const r = await run(["scan", ...args], env);
    assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, /^cnidoctor: /);
  }
});
