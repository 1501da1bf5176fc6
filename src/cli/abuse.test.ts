// Hostile-input probes through the built binary (issue 15): each runs under a hard deadline and
// must end with its documented exit code and, for bad input, one line on stderr naming the file or
// flag. FIFOs and /dev/zero links are made here. CNIDOCTOR_ABUSE_BIN runs the probes against another
// build (used to record the before/after table).

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { cp, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:net";
import { createServer as createHttpServer, type Server as HttpServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { execFileSync } from "node:child_process";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const BIN = process.env.CNIDOCTOR_ABUSE_BIN ?? join(ROOT, "dist/src/cli/bin.js");
const HEALTHY = join(ROOT, "examples/healthy");
const DEADLINE_MS = 30_000;
/** The agent run without cluster access, on a port of its own. */
const AGENT_METRICS_ONLY = ["agent", "--metrics-only", "--node-name", "n1", "--listen", "127.0.0.1:0"];

interface Outcome {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
  timedOut: boolean;
}

/** Runs the CLI with a hard deadline: past it the process (group) is killed and the probe fails. */
function probe(
  args: string[],
  env: NodeJS.ProcessEnv,
  deadlineMs = DEADLINE_MS,
  stdin?: string,
): Promise<Outcome> {
  const t0 = Date.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      env,
      stdio: [stdin === undefined ? "ignore" : "pipe", "pipe", "pipe"],
    });
    if (stdin !== undefined) child.stdin?.end(stdin);
    let stdout = "";
    let stderr = "";
    child.stdout?.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr?.on("data", (d: Buffer) => (stderr += d.toString()));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, deadlineMs);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ms: Date.now() - t0, timedOut });
    });
  });
}

function oneLine(o: Outcome, pattern: RegExp): void {
  const lines = o.stderr.trim().split("\n");
  assert.equal(lines.length, 1, `one line on stderr, got:\n${o.stderr}`);
  assert.match(lines[0] ?? "", pattern);
  assert.doesNotMatch(o.stderr, /internal error|\n\s+at /);
}

let dir = "";
let env: NodeJS.ProcessEnv = {};
let closedPort = 0;
let silent: Server | undefined;
/** Serves a KDM body (for --kdm-cache) and a tiny API: DaemonSets that are missing, not calico-node, or podless; no node. */
let web: HttpServer | undefined;
let webPort = 0;

const daemonSet = (name: string, container: string): string =>
  JSON.stringify({
    kind: "DaemonSet",
    apiVersion: "apps/v1",
    metadata: { name, namespace: "kube-system" },
    spec: {
      selector: { matchLabels: { "k8s-app": name } },
      template: { spec: { containers: [{ name: container, image: "x" }] } },
    },
  });

function fakeApi(url: string): { status: number; body: string } {
  const list = JSON.stringify({ kind: "List", apiVersion: "v1", metadata: {}, items: [] });
  if (url.startsWith("/data.json")) return { status: 200, body: "{}" };
  const ds = /^\/apis\/apps\/v1\/namespaces\/kube-system\/daemonsets\/([^/?]+)$/.exec(url);
  if (ds !== null) {
    if (ds[1] === "kube-proxy") return { status: 200, body: daemonSet("kube-proxy", "kube-proxy") };
    if (ds[1] === "calico-empty") return { status: 200, body: daemonSet("calico-empty", "calico-node") };
    return {
      status: 404,
      body: JSON.stringify({ kind: "Status", status: "Failure", reason: "NotFound", code: 404 }),
    };
  }
  return { status: 200, body: list };
}

function kubeconfig(name: string, server: string): Promise<string> {
  const path = join(dir, name);
  const text = [
    "apiVersion: v1",
    "kind: Config",
    "clusters: [{name: c, cluster: {server: '" + server + "', insecure-skip-tls-verify: true}}]",
    "users: [{name: u, user: {token: not-a-valid-token}}]",
    "contexts: [{name: x, context: {cluster: c, user: u}}]",
    "current-context: x",
    "",
  ].join("\n");
  return writeFile(path, text).then(() => path);
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "cnidoctor-abuse-"));
  // Only what the probes set: no KUBECONFIG or ~/.kube/config of the machine running the tests.
  env = { PATH: process.env.PATH ?? "", HOME: dir, NO_COLOR: "1" };
  execFileSync("mkfifo", [join(dir, "fifo")]);
  await mkdir(join(dir, "empty-advisories"));
  await mkdir(join(dir, "fifo-advisories"));
  await mkdir(join(dir, "fifo-out"));
  execFileSync("mkfifo", [join(dir, "fifo-out", "cnidoctor-alerts.yaml")]);
  execFileSync("mkfifo", [join(dir, "fifo-advisories", "CNID-2024-0001.yaml")]);
  await writeFile(join(dir, "malformed.yml"), "nodes: [\n  - address: 1.2.3.4\n  role: [controlplane\n");
  await writeFile(
    join(dir, "felix.log"),
    "2024-08-09 08:00:00.000 [INFO][1] felix/int_dataplane.go 1: hello\n",
  );
  // A port that refuses connections.
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  closedPort = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  // A server that accepts and never answers (a frozen API server).
  silent = createServer(() => undefined);
  await new Promise<void>((r) => silent?.listen(0, "127.0.0.1", r));
  web = createHttpServer((req, res) => {
    const { status, body } = fakeApi(req.url ?? "");
    res.writeHead(status, { "content-type": "application/json", connection: "close" });
    res.end(body);
  });
  await new Promise<void>((r) => web?.listen(0, "127.0.0.1", r));
  webPort = (web.address() as { port: number }).port;
  await kubeconfig("fake.kubeconfig", `http://127.0.0.1:${webPort}`);
  await kubeconfig("closed.kubeconfig", `https://127.0.0.1:${closedPort}`);
  await kubeconfig("silent.kubeconfig", `https://127.0.0.1:${(silent.address() as { port: number }).port}`);
  // Exec credential plugins: one failing without a message, one that never answers.
  for (const [name, exec] of [
    ["exec-false.kubeconfig", "{command: /bin/false, interactiveMode: Never}"],
    ["exec-hang.kubeconfig", "{command: /bin/sleep, args: ['1000'], interactiveMode: Never}"],
  ] as const)
    await writeFile(
      join(dir, name),
      [
        "apiVersion: v1",
        "kind: Config",
        `clusters: [{name: c, cluster: {server: 'https://127.0.0.1:${closedPort}'}}]`,
        `users: [{name: u, user: {exec: ${exec.replace("{", "{apiVersion: client.authentication.k8s.io/v1, ")}}}]`,
        "contexts: [{name: x, context: {cluster: c, user: u}}]",
        "current-context: x",
        "",
      ].join("\n"),
    );
  // Kubeconfigs broken in ways the client library would hang on, crash on, or misreport.
  const cfg = (cluster: string, user: string, extra = ""): string =>
    [
      "apiVersion: v1",
      "kind: Config",
      `clusters: [{name: c, cluster: ${cluster}}]`,
      `users: [{name: u, user: ${user}}]`,
      "contexts: [{name: x, context: {cluster: c, user: u}}]",
      extra !== "" ? extra : "current-context: x",
      "",
    ].join("\n");
  const server = `server: 'https://127.0.0.1:${closedPort}'`;
  const kubeconfigs: Record<string, string> = {
    "gone-context": cfg(`{${server}}`, "{token: t}", "current-context: gone"),
    "no-cluster": cfg(`{${server}}`, "{token: t}").replace("{cluster: c,", "{cluster: nothere,"),
    "not-a-url": cfg("{server: 'not a url'}", "{token: t}"),
    ftp: cfg(`{server: 'ftp://127.0.0.1:${closedPort}'}`, "{token: t}"),
    "ca-fifo": cfg(`{${server}, certificate-authority: fifo}`, "{token: t}"),
    "token-fifo": cfg(`{${server}}`, "{token-file: fifo}"),
    "tokenfile-missing": cfg(`{${server}}`, "{tokenFile: no-such-token}"),
    empty: "",
  };
  for (const [name, text] of Object.entries(kubeconfigs))
    await writeFile(join(dir, `${name}.kubeconfig`), text);
  // Bundles: nodes.json a /dev/zero link; pods.json a FIFO; a Canal DaemonSet with no visible pod.
  for (const name of ["zero", "fifo-pods", "no-pods"])
    await cp(HEALTHY, join(dir, name), { recursive: true });
  await rm(join(dir, "zero", "nodes.json"));
  await symlink("/dev/zero", join(dir, "zero", "nodes.json"));
  await rm(join(dir, "fifo-pods", "kube-system", "pods.json"));
  execFileSync("mkfifo", [join(dir, "fifo-pods", "kube-system", "pods.json")]);
  await writeFile(join(dir, "no-pods", "kube-system", "pods.json"), '{"kind":"PodList","items":[]}\n');
});

after(async () => {
  silent?.close();
  web?.close();
  await rm(dir, { recursive: true, force: true });
});

const closed = (): string => join(dir, "closed.kubeconfig");

interface Probe {
  name: string;
  args: () => string[];
  /** Written to the child's stdin (else stdin is closed). */
  stdin?: () => Promise<string>;
  code: number;
  /** The one stderr line (bad input), or what stdout must say. */
  stderr?: RegExp;
  stdout?: RegExp;
  /** Probes that must end well before the hard deadline. */
  withinMs?: number;
  /** What must hold afterwards (e.g. nothing half-written). */
  check?: () => Promise<void>;
}

const PROBES: Probe[] = [
  // Flag ranges (item 9): refused at parse time, before any cluster access.
  {
    name: "--log-bytes 0",
    args: () => ["scan", "--kubeconfig", closed(), "--log-bytes", "0"],
    code: 2,
    stderr: /--log-bytes/,
  },
  {
    name: "--log-bytes 10Ti",
    args: () => ["scan", "--kubeconfig", closed(), "--log-bytes", "10Ti"],
    code: 2,
    stderr: /--log-bytes/,
  },
  {
    name: "--qps 0.0001",
    args: () => ["scan", "--kubeconfig", closed(), "--qps", "0.0001"],
    code: 2,
    stderr: /--qps/,
  },
  {
    name: "--request-timeout 9999999h",
    args: () => ["scan", "--kubeconfig", closed(), "--request-timeout", "9999999h"],
    code: 2,
    stderr: /--request-timeout/,
  },
  {
    name: "--request-timeout 1ms",
    args: () => ["scan", "--kubeconfig", closed(), "--request-timeout", "1ms"],
    code: 2,
    stderr: /--request-timeout/,
  },
  {
    name: "--since 400d",
    args: () => ["scan", "--kubeconfig", closed(), "--since", "400d"],
    code: 2,
    stderr: /--since/,
  },
  {
    name: "--since=-5m",
    args: () => ["scan", "--kubeconfig", closed(), "--since=-5m"],
    code: 2,
    stderr: /--since/,
  },
  {
    name: "--timeout 0",
    args: () => ["scan", "--kubeconfig", closed(), "--timeout", "0"],
    code: 2,
    stderr: /--timeout/,
  },
  {
    name: "logs --since 9999999999h",
    args: () => ["logs", join(dir, "felix.log"), "--since", "9999999999h"],
    code: 2,
    stderr: /--since/,
  },
  // Advisories (item 7).
  {
    name: "--advisories empty dir",
    args: () => ["scan", "--bundle", HEALTHY, "--advisories", join(dir, "empty-advisories")],
    code: 2,
    stderr: /empty-advisories: holds no advisory/,
  },
  {
    name: "--advisories missing dir",
    args: () => ["scan", "--bundle", HEALTHY, "--advisories", join(dir, "nope")],
    code: 2,
    stderr: /nope: no such advisories directory/,
  },
  // Malformed --rke-config (item 6).
  {
    name: "plan --rke-config malformed",
    args: () => ["plan", "--rke-config", join(dir, "malformed.yml")],
    code: 2,
    stderr: /malformed\.yml: malformed YAML/,
  },
  // Nothing read from the cluster (items 6, 10).
  {
    name: "scan, API port closed",
    args: () => ["scan", "--kubeconfig", closed(), "--request-timeout", "2s"],
    code: 2,
    stderr: /could not read the cluster: /,
  },
  {
    name: "plan, API port closed",
    args: () => ["plan", "--kubeconfig", closed(), "--request-timeout", "2s"],
    code: 2,
    stderr: /could not read the cluster: /,
  },
  {
    name: "apply --yes --only, API port closed",
    args: () => [
      "apply",
      "--kubeconfig",
      closed(),
      "--request-timeout",
      "2s",
      "--only",
      "felix-disable-xdp",
      "--yes",
      "--state-dir",
      join(dir, "state"),
    ],
    code: 2,
    stderr: /could not read the cluster: /,
  },
  {
    name: "collect, API port closed: exit 2, no bundle left",
    args: () => [
      "collect",
      "--kubeconfig",
      closed(),
      "--request-timeout",
      "2s",
      "--output-dir",
      join(dir, "collect-closed"),
    ],
    code: 2,
    stderr: /could not read the cluster: /,
    check: async () => {
      const left = (await readdir(dir)).filter((n) => n.includes("collect-closed"));
      assert.deepEqual(left, [], "collect left a directory behind");
    },
  },
  // Kubeconfigs (items 11, 13): one line naming the file and what is wrong, never a hang or exit 1.
  ...(
    [
      [
        "current-context not among its contexts",
        "gone-context",
        /gone-context\.kubeconfig: current-context 'gone' is not among its contexts/,
      ],
      ["context names a cluster it does not define", "no-cluster", /context 'x' names cluster 'nothere'/],
      ["server is not a URL", "not-a-url", /server 'not a url' is not an https:\/\/ URL/],
      ["server is ftp://", "ftp", /server 'ftp:.*' is not an https:\/\/ URL/],
      ["certificate-authority is a FIFO", "ca-fifo", /fifo: is a FIFO .*\(the certificate-authority of /],
      ["token-file is a FIFO", "token-fifo", /fifo: is a FIFO .*\(the token-file of /],
      [
        "kubectl's tokenFile is missing",
        "tokenfile-missing",
        /no-such-token: no such file \(the tokenFile of /,
      ],
      ["empty kubeconfig", "empty", /empty\.kubeconfig: is empty, not a kubeconfig/],
    ] as const
  ).map(([what, file, stderr]): Probe => ({
    name: `kubeconfig: ${what}`,
    args: () => ["scan", "--kubeconfig", join(dir, `${file}.kubeconfig`), "--request-timeout", "2s"],
    code: 2,
    stderr,
  })),
  {
    name: "--max-unavailable 10^23",
    args: () => ["plan", "--bundle", HEALTHY, "--max-unavailable", "99999999999999999999999"],
    code: 2,
    stderr: /--max-unavailable: must be between 1 and 100000/,
  },
  {
    name: "logs --until before --since",
    args: () => [
      "logs",
      join(dir, "felix.log"),
      "--since",
      "2024-08-10T00:00:00Z",
      "--until",
      "2024-08-09T00:00:00Z",
    ],
    code: 2,
    stderr: /--until '2024-08-09T00:00:00Z' is not after --since/,
  },
  // A frozen API server (accepts, never answers): the overall --timeout ends the read (item 12).
  {
    name: "scan, frozen API, --timeout 3s",
    args: () => ["scan", "--kubeconfig", join(dir, "silent.kubeconfig"), "--timeout", "3s"],
    code: 2,
    stderr: /could not read the cluster: .*--timeout/,
    withinMs: 15_000,
  },
  // Exec credential plugins (items 12, 13): a silent failure is one line, a hang is timed out.
  {
    name: "exec plugin fails without a message",
    args: () => ["scan", "--kubeconfig", join(dir, "exec-false.kubeconfig")],
    code: 2,
    stderr: /could not read the cluster: kubeconfig credentials/,
  },
  {
    name: "exec plugin hangs",
    args: () => ["scan", "--kubeconfig", join(dir, "exec-hang.kubeconfig"), "--request-timeout", "1s"],
    code: 2,
    stderr: /could not read the cluster: .*did not finish within 16 s/,
  },
  // FIFOs and devices where a file is expected (item 11): never opened, never a hang.
  { name: "logs FIFO", args: () => ["logs", join(dir, "fifo")], code: 2, stderr: /fifo: is a FIFO/ },
  {
    name: "--rke-config FIFO",
    args: () => ["plan", "--rke-config", join(dir, "fifo")],
    code: 2,
    stderr: /fifo: is a FIFO/,
  },
  {
    name: "--kubeconfig FIFO",
    args: () => ["scan", "--kubeconfig", join(dir, "fifo")],
    code: 2,
    stderr: /fifo: is a FIFO/,
  },
  {
    name: "advisory file FIFO",
    args: () => ["scan", "--bundle", HEALTHY, "--advisories", join(dir, "fifo-advisories")],
    code: 2,
    stderr: /CNID-2024-0001\.yaml: is a FIFO/,
  },
  {
    name: "bundle nodes.json -> /dev/zero",
    args: () => ["scan", "--bundle", join(dir, "zero")],
    code: 4,
    stdout: /nodes\.json: is a character device/,
  },
  {
    name: "bundle pods.json FIFO",
    args: () => ["scan", "--bundle", join(dir, "fifo-pods")],
    code: 4,
    stdout: /pods\.json: is a FIFO/,
  },
  // Every file flag given a FIFO or a directory (the rest of the flags are above): one line, exit 2.
  ...(
    [
      [
        "check --kdm FIFO",
        ["check", "--rke1", "v1.30.2-rancher1-1", "--kdm", "fifo"],
        /--kdm .*fifo: is a FIFO/,
      ],
      ["scan --kdm FIFO", ["scan", "--bundle", HEALTHY, "--kdm", "fifo"], /--kdm .*fifo: is a FIFO/],
      ["plan --kdm FIFO", ["plan", "--bundle", HEALTHY, "--kdm", "fifo"], /--kdm .*fifo: is a FIFO/],
      ["scan --kdm directory", ["scan", "--bundle", HEALTHY, "--kdm", "empty-advisories"], /is a directory/],
      ["check --rke-config FIFO", ["check", "--rke-config", "fifo"], /fifo: is a FIFO/],
      ["check --rke-config directory", ["check", "--rke-config", "empty-advisories"], /is a directory/],
      [
        "apply --rke-config FIFO",
        ["apply", "--rke-config", "fifo", "--yes", "--state-dir", "state"],
        /fifo: is a FIFO/,
      ],
      ["advisories validate FIFO", ["advisories", "validate", "fifo"], /fifo: is a FIFO/],
      [
        "scan --prometheus-token-file FIFO",
        [
          "scan",
          "--bundle",
          HEALTHY,
          "--prometheus",
          "http://127.0.0.1:9",
          "--prometheus-token-file",
          "fifo",
        ],
        /fifo: is a FIFO/,
      ],
      [
        "scan --prometheus-ca-file FIFO",
        ["scan", "--bundle", HEALTHY, "--prometheus", "https://127.0.0.1:9", "--prometheus-ca-file", "fifo"],
        /fifo: is a FIFO/,
      ],
    ] as const
  ).map(([name, argv, stderr]): Probe => ({
    name,
    args: () =>
      argv.map((a) => (a === "fifo" || a === "empty-advisories" || a === "state" ? join(dir, a) : a)),
    code: 2,
    stderr,
  })),
  {
    name: "scan --kdm URL --kdm-cache FIFO",
    args: () => [
      "scan",
      "--bundle",
      HEALTHY,
      "--kdm",
      `http://127.0.0.1:${webPort}/data.json`,
      "--kdm-cache",
      join(dir, "fifo"),
    ],
    code: 2,
    stderr: /--kdm-cache .*fifo: is not a regular file/,
  },
  // The agent's directories: a FIFO there would leave it running and watching nothing.
  ...(
    [
      [
        "agent --log-root FIFO",
        "--log-root",
        "fifo",
        "--state-dir",
        "empty-advisories",
        /fifo: --log-root is not a directory/,
      ],
      [
        "agent --state-dir FIFO",
        "--log-root",
        "empty-advisories",
        "--state-dir",
        "fifo",
        /fifo: --state-dir is not a directory/,
      ],
    ] as const
  ).map(([name, f1, v1, f2, v2, stderr]): Probe => ({
    name,
    args: () => [...AGENT_METRICS_ONLY, f1, join(dir, v1), f2, join(dir, v2)],
    code: 2,
    stderr,
  })),
  // An empty --log-root would leave the agent running and watching nothing.
  {
    name: "agent --log-root ''",
    args: () => [...AGENT_METRICS_ONLY, "--log-root", "", "--state-dir", join(dir, "empty-advisories")],
    code: 2,
    stderr: /--log-root must name at least one directory/,
  },
  // A file apply would write (a generated file in --output-dir) that is a FIFO: never read.
  {
    name: "apply --only alert-rules, the file to write is a FIFO",
    args: () => [
      "apply",
      "--rke-config",
      join(ROOT, "examples/rke1-canal-affected/cluster.yml"),
      "--only",
      "alert-rules",
      "--output-dir",
      join(dir, "fifo-out"),
      "--yes",
      "--state-dir",
      join(dir, "state"),
    ],
    code: 2,
    stderr: /cnidoctor-alerts\.yaml: is a FIFO \(named pipe\), expected a regular file/,
  },
  // --rke-config - (item 2): read-only commands read stdin; apply refuses it.
  {
    name: "plan --rke-config - (stdin)",
    args: () => ["plan", "--rke-config", "-"],
    stdin: () => readFile(join(ROOT, "examples/rke1-canal-affected/cluster.yml"), "utf8"),
    code: 0,
    stdout: /cluster\.yml <stdin>[\s\S]*rke1-pin-system-images/,
  },
  {
    name: "check --rke-config - (stdin)",
    args: () => ["check", "--rke-config", "-"],
    stdin: () => readFile(join(ROOT, "examples/rke1-canal-affected/cluster.yml"), "utf8"),
    code: 3,
    stdout: /AFFECTED +rke1 v1\.30\.3-rancher1-1/,
  },
  {
    name: "plan --rke-config - (malformed stdin)",
    args: () => ["plan", "--rke-config", "-"],
    stdin: () => Promise.resolve("nodes: [\n  - a\n  b: [\n"),
    code: 2,
    stderr: /<stdin>: malformed YAML/,
  },
  {
    name: "apply --rke-config - is refused",
    args: () => ["apply", "--rke-config", "-", "--yes", "--state-dir", join(dir, "state")],
    stdin: () => readFile(join(ROOT, "examples/rke1-canal-affected/cluster.yml"), "utf8"),
    code: 2,
    stderr: /apply: --rke-config - \(stdin\) cannot be applied/,
  },
  // A port where nothing listens (item 4): one attempt, no backoff.
  ...(["scan", "plan"] as const).map((command): Probe => ({
    name: `${command}, API port closed: no retries`,
    args: () => [command, "--kubeconfig", closed()],
    code: 2,
    stderr: /could not read the cluster: .*request failed \(ECONNREFUSED\)$/,
  })),
  // A named target that matches nothing (item 5) is bad usage, never "nothing to change".
  ...(
    [
      ["nosuch", /DaemonSet kube-system\/nosuch not found/],
      ["kube-proxy", /DaemonSet kube-system\/kube-proxy has no calico-node container/],
      ["calico-empty", /DaemonSet kube-system\/calico-empty has no pod to restart/],
    ] as const
  ).map(([name, stderr]): Probe => ({
    name: `apply --daemonset kube-system/${name}`,
    args: () => [
      "apply",
      "--kubeconfig",
      join(dir, "fake.kubeconfig"),
      "--daemonset",
      `kube-system/${name}`,
      "--advisory",
      "CNID-2024-0001",
      "--yes",
      "--state-dir",
      join(dir, "state"),
    ],
    code: 2,
    stderr,
  })),
  ...(["scan", "plan", "collect"] as const).map((command): Probe => ({
    name: `${command} --nodes matching no node`,
    args: () => [
      command,
      "--kubeconfig",
      join(dir, "fake.kubeconfig"),
      "--nodes",
      "pool=nosuch",
      ...(command === "collect" ? ["--output-dir", join(dir, "collect-nodes")] : []),
    ],
    code: 2,
    stderr: /--nodes 'pool=nosuch' matches no node/,
  })),
  ...(["scan", "plan"] as const).map((command): Probe => ({
    name: `${command} --bundle --nodes`,
    args: () => [command, "--bundle", HEALTHY, "--nodes", "pool=a"],
    code: 2,
    stderr: /--nodes selects nodes of a live cluster; it cannot narrow --bundle/,
  })),
  // Every other live-only flag with --bundle was ignored silently (a --since window never applied).
  ...(
    [
      ["scan", "--since", "2h"],
      ["scan", "--timeout", "5m"],
      ["scan", "--context", "prod"],
      ["plan", "--log-bytes", "1Mi"],
      ["plan", "--resource-sample", "30"],
    ] as const
  ).map(([command, flag, value]): Probe => ({
    name: `${command} --bundle ${flag}`,
    args: () => [command, "--bundle", HEALTHY, flag, value],
    code: 2,
    stderr: new RegExp(`${flag} applies to reading a live cluster and has no effect with --bundle`),
  })),
  // A DaemonSet that wants pods with none visible is unknown, not a pass (item 8).
  {
    name: "Canal DaemonSet, empty pods.json",
    args: () => ["scan", "--bundle", join(dir, "no-pods")],
    code: 4,
    stdout: /wants 3 pods but none is visible/,
  },
];

describe("abuse probes (hard deadline per probe)", () => {
  for (const p of PROBES) {
    test(p.name, async () => {
      const o = await probe(p.args(), env, DEADLINE_MS, p.stdin ? await p.stdin() : undefined);
      assert.equal(o.timedOut, false, `${p.name}: still running after ${DEADLINE_MS} ms`);
      assert.equal(
        o.code,
        p.code,
        `${p.name}: exit ${String(o.code)}\n${o.stderr}${o.stdout.slice(0, 2000)}`,
      );
      if (p.stderr) oneLine(o, p.stderr);
      if (p.stdout) assert.match(o.stdout, p.stdout);
      if (p.withinMs !== undefined) assert.ok(o.ms < p.withinMs, `${p.name}: took ${o.ms} ms`);
      await p.check?.();
    });
  }
});
