// The container image (scripts/image/build.sh, `npm run image`), run with podman against the
// harness: the agent container raises the Node condition, writes the Event and serves /metrics; a
// scan inside the image gives the host's verdict; the restart CronJob's command runs from it.
// Host network, loopback only. Every container is named it-image-<pid>-* and removed at the end.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  appendFileSync,
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse as parseYaml, parseAllDocuments } from "yaml";
import { startCluster, stopCluster, type ClusterInfo } from "../../scripts/cluster/cluster.js";
import { freePort } from "../../scripts/cluster/ports.js";
import { findKubectl } from "../../scripts/cluster/tools.js";
import { writeTokenKubeconfig } from "../../scripts/cluster/token-kubeconfig.js";
import { felixLog, toCri } from "../../scripts/fixtures/felix-log.js";
import { IMAGE, REPO, VERSION, missing, podman, sh, which, type Run } from "./tools.js";

const skip = missing("podman");
const NAME = `it-image-${process.pid}`;
const work = mkdtempSync(join(tmpdir(), "cnid-it-image-"));
chmodSync(work, 0o755); // the image's user (65532) reads the mounted files
let cluster: ClusterInfo | undefined;
const containers: string[] = [];

function info(): ClusterInfo {
  assert.ok(cluster, "cluster did not start");
  return cluster;
}

async function kubectl(args: string[], kubeconfig = info().kubeconfig): Promise<string> {
  const r = await sh(findKubectl(), args, { env: { ...process.env, KUBECONFIG: kubeconfig } });
  assert.equal(r.code, 0, `kubectl ${args.join(" ")}: ${r.stderr}`);
  return r.stdout;
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`timed out waiting for ${what}${last instanceof Error ? `: ${last.message}` : ""}`);
}

/** A report's verdict: per advisory, its status and nodes. */
function verdict(out: string): unknown {
  const r = JSON.parse(out) as {
    findings?: { advisoryId?: string; status?: string; nodes?: unknown }[];
  };
  return (r.findings ?? []).map((f) => [f.advisoryId, f.status, JSON.stringify(f.nodes)]).sort();
}

/** podman run flags every test uses: the harness is reached on loopback through the host network. */
function runFlags(name: string): string[] {
  containers.push(name);
  return ["--name", name, "--network=host", "--ulimit", "host", "--read-only"];
}

function felixLines(kind: "storm" | "quiet", seconds: number): string {
  const lines = [
    ...felixLog({ calicoVersion: "v3.28.0", kind, start: new Date(), durationSeconds: seconds }),
  ];
  return `${lines.map((l) => toCri(l)).join("\n")}\n`;
}

before(
  async () => {
    if (skip) return;
    if ((await podman(["image", "exists", IMAGE])).code !== 0) {
      const b = await sh("bash", [join(REPO, "scripts", "image", "build.sh")]);
      assert.equal(b.code, 0, b.stderr);
    }
    cluster = await startCluster({ scenario: "rke1-canal-affected", nodes: 3, name: NAME });
    await kubectl(["apply", "-f", join(REPO, "deploy", "agent", "namespace.yaml")]);
    await kubectl(["apply", "-f", join(REPO, "deploy", "agent", "rbac.yaml")]);
    // The admin kubeconfig, readable by the image's user.
    writeFileSync(join(work, "admin.yaml"), readFileSync(info().kubeconfig));
    chmodSync(join(work, "admin.yaml"), 0o644);
  },
  { timeout: 600_000 },
);

after(
  async () => {
    for (const c of containers) await podman(["rm", "-f", "--time", "2", c]);
    if (!skip) await stopCluster({ name: NAME });
    rmSync(work, { recursive: true, force: true });
  },
  { timeout: 120_000 },
);

describe("container image", { skip }, () => {
  test("non-root, labelled, no shell, read-only root works; tarball, SBOM and images list beside it", async () => {
    const inspect = JSON.parse((await podman(["image", "inspect", IMAGE])).stdout) as {
      Config: { User: string; Labels: Record<string, string>; Entrypoint: string[] };
    }[];
    const cfg = inspect[0]?.Config;
    assert.ok(cfg);
    assert.equal(cfg.User, "65532:65532");
    assert.deepEqual(cfg.Entrypoint, ["cnidoctor"]);
    assert.equal(cfg.Labels["org.opencontainers.image.version"], VERSION);
    assert.equal(cfg.Labels["org.opencontainers.image.licenses"], "Apache-2.0");
    assert.match(cfg.Labels["org.opencontainers.image.source"] ?? "", /^https:\/\//);
    assert.match(cfg.Labels["org.opencontainers.image.revision"] ?? "", /^[0-9a-f]{40}$/);
    const shell = await podman([
      "run",
      "--rm",
      ...runFlags(`${NAME}-sh`),
      "--entrypoint",
      "/bin/sh",
      IMAGE,
      "-c",
      "true",
    ]);
    assert.notEqual(shell.code, 0, "the image must not ship a shell");
    const v = await podman(["run", "--rm", ...runFlags(`${NAME}-version`), IMAGE, "--version"]);
    assert.equal(v.code, 0, v.stderr);
    assert.equal(v.stdout.trim(), `cnidoctor ${VERSION}`);

    const dir = join(REPO, "dist", "image");
    assert.ok(existsSync(join(dir, `cnidoctor-${VERSION}-amd64.tar`)));
    assert.equal(readFileSync(join(dir, "cnidoctor-images.txt"), "utf8").trim(), IMAGE);
    const sbom = JSON.parse(readFileSync(join(dir, `cnidoctor-${VERSION}-amd64.spdx.json`), "utf8")) as {
      spdxVersion: string;
      packages: { name: string; versionInfo: string }[];
    };
    assert.equal(sbom.spdxVersion, "SPDX-2.3");
    const names = new Set(sbom.packages.map((p) => p.name));
    for (const n of [
      "cnidoctor",
      "node",
      "libc6",
      "libstdc++6",
      "ca-certificates",
      "@kubernetes/client-node",
      "yaml",
    ]) {
      assert.ok(names.has(n), `SBOM lists ${n}`);
    }
    assert.ok(!names.has("typescript"), "SBOM (and image) hold production dependencies only");
    // The air-gapped path reads the tarball with skopeo (docs/packaging.md): it must see this image.
    if (which("skopeo") === undefined) {
      process.stderr.write("skopeo check skipped: skopeo not installed (apt-get install -y skopeo)\n");
    } else {
      const tar = join(dir, `cnidoctor-${VERSION}-amd64.tar`);
      const seen = await sh("skopeo", ["inspect", "--config", `oci-archive:${tar}`]);
      assert.equal(seen.code, 0, seen.stderr);
      const conf = JSON.parse(seen.stdout) as { config: { Labels: Record<string, string>; User: string } };
      assert.equal(conf.config.Labels["org.opencontainers.image.version"], VERSION);
      assert.equal(conf.config.User, "65532:65532");
    }
  });

  test(
    "the agent container raises the Node condition, writes the Event and serves /metrics",
    { timeout: 180_000 },
    async () => {
      const node = info().hotNodes[0] ?? "";
      assert.ok(node);
      const token = (
        await kubectl(["-n", "cnidoctor", "create", "token", "cnidoctor-agent", "--duration=1h"])
      ).trim();
      // Readable by the container's own user, which is not this one.
      const kc = writeTokenKubeconfig(info().kubeconfig, token, join(work, "agent.yaml"), { mode: 0o644 });
      // The node's calico-node log directory, as kubelet lays it out; mounted read-only.
      const logs = join(work, "logs");
      const dir = join(logs, `kube-system_canal-${node}_0000-uid`, "calico-node");
      mkdirSync(dir, { recursive: true });
      for (const d of [logs, join(logs, `kube-system_canal-${node}_0000-uid`), dir]) chmodSync(d, 0o755);
      const logFile = join(dir, "0.log");
      writeFileSync(logFile, felixLines("quiet", 5), { mode: 0o644 });
      const state = join(work, "state");
      mkdirSync(state, { mode: 0o777 });
      chmodSync(state, 0o777);
      const port = await freePort();
      const name = `${NAME}-agent`;
      const started = await podman([
        "run",
        "-d",
        ...runFlags(name),
        "-v",
        `${logs}:/var/log/pods:ro`,
        "-v",
        `${state}:/var/lib/cnidoctor-agent`,
        "-v",
        `${kc}:/etc/cnidoctor/kubeconfig:ro`,
        "-e",
        "KUBECONFIG=/etc/cnidoctor/kubeconfig",
        "-e",
        `NODE_NAME=${node}`,
        "--entrypoint",
        "cnidoctor-agent",
        IMAGE,
        "--log-root=/var/log/pods",
        "--state-dir=/var/lib/cnidoctor-agent",
        `--listen=127.0.0.1:${port}`,
        "--clear-after=30s",
        "--event-interval=2s",
        "--poll-interval=250ms",
        "--first-write-jitter=1s",
      ]);
      assert.equal(started.code, 0, started.stderr);
      await waitFor("the agent's /healthz", async () =>
        (await fetch(`http://127.0.0.1:${port}/healthz`)).ok ? true : undefined,
      );
      appendFileSync(logFile, felixLines("storm", 20));
      const cond = await waitFor("the Node condition", async () => {
        const n = JSON.parse(await kubectl(["get", "node", node, "-o", "json"])) as {
          status: { conditions?: { type: string; status: string }[] };
        };
        return n.status.conditions?.find((c) => c.type === "CalicoXDPRetryLoop" && c.status === "True");
      });
      assert.equal(cond.status, "True");
      const events = await waitFor("the node Event", async () => {
        const out = JSON.parse(
          await kubectl(["get", "events.v1.events.k8s.io", "-n", "default", "-o", "json"]),
        ) as {
          items: { regarding?: { name?: string }; reason?: string }[];
        };
        const mine = out.items.filter((e) => e.regarding?.name === node);
        return mine.length > 0 ? mine : undefined;
      });
      assert.ok(events.length >= 1);
      const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      const m =
        /^cnidoctor_signature_matches_total\{[^}]*signature="xdp-btf-load-failure"[^}]*\} ([1-9]\d*)/m.exec(
          metrics,
        );
      assert.ok(m, `a non-zero cnidoctor counter in /metrics:\n${metrics.slice(0, 2000)}`);
      // The read-only root filesystem held: the agent wrote only its mounted state directory.
      const logsOut = await podman(["logs", name]);
      assert.doesNotMatch(logsOut.stderr, /EROFS|read-only file system/i);
      await podman(["rm", "-f", "--time", "5", name]);
    },
  );

  test(
    "scan inside the image with a mounted kubeconfig gives the host's verdict",
    { timeout: 180_000 },
    async () => {
      const host = await sh(process.execPath, [
        join(REPO, "dist", "src", "cli", "bin.js"),
        "scan",
        "--kubeconfig",
        info().kubeconfig,
        "-o",
        "json",
      ]);
      const inImage = await podman([
        "run",
        "--rm",
        ...runFlags(`${NAME}-scan`),
        "-v",
        `${join(work, "admin.yaml")}:/etc/cnidoctor/kubeconfig:ro`,
        IMAGE,
        "scan",
        "--kubeconfig",
        "/etc/cnidoctor/kubeconfig",
        "-o",
        "json",
      ]);
      assert.equal(host.code, 3, host.stderr);
      assert.equal(inImage.code, host.code, inImage.stderr);
      assert.deepEqual(verdict(inImage.stdout), verdict(host.stdout));
    },
  );

  test(
    "the scan Job's command runs from the image as the scan ServiceAccount, in-cluster, with the host's verdict",
    { timeout: 180_000 },
    async () => {
      await kubectl(["apply", "-f", join(REPO, "deploy", "rbac", "cnidoctor-scan.yaml")]);
      const job = parseAllDocuments(readFileSync(join(REPO, "deploy", "scan", "job.yaml"), "utf8"))
        .map((d) => d.toJS() as { kind?: string; spec?: unknown })
        .find((d) => d.kind === "Job") as
        { spec: { template: { spec: { containers: { image: string; args: string[] }[] } } } } | undefined;
      const c = job?.spec.template.spec.containers[0];
      assert.ok(c, "deploy/scan/job.yaml holds the Job");
      assert.equal(c.image, IMAGE);
      // What the kubelet gives the Job's pod: the ServiceAccount's token, the cluster CA and the
      // KUBERNETES_SERVICE_* variables; no kubeconfig.
      const sa = join(work, "serviceaccount");
      mkdirSync(sa, { mode: 0o755 });
      const token = (
        await kubectl(["-n", "cnidoctor", "create", "token", "cnidoctor-scan", "--duration=1h"])
      ).trim();
      const admin = parseYaml(readFileSync(info().kubeconfig, "utf8")) as {
        clusters: { cluster: { "certificate-authority-data": string } }[];
      };
      const ca = Buffer.from(admin.clusters[0]?.cluster["certificate-authority-data"] ?? "", "base64");
      writeFileSync(join(sa, "token"), token, { mode: 0o644 });
      writeFileSync(join(sa, "ca.crt"), ca, { mode: 0o644 });
      writeFileSync(join(sa, "namespace"), "cnidoctor", { mode: 0o644 });
      const inCluster = (name: string, args: string[]): Promise<Run> =>
        podman([
          "run",
          "--rm",
          ...runFlags(name),
          "--tmpfs",
          "/tmp",
          "-v",
          `${sa}:/var/run/secrets/kubernetes.io/serviceaccount:ro`,
          "-e",
          "KUBERNETES_SERVICE_HOST=127.0.0.1",
          "-e",
          `KUBERNETES_SERVICE_PORT=${info().apiserverPort}`,
          IMAGE,
          ...args,
        ]);
      // The Job's exact command: exit 3 on this affected scenario, which fails the Job by design.
      const asJob = await inCluster(`${NAME}-job`, c.args);
      assert.equal(asJob.code, 3, `${asJob.stdout}\n${asJob.stderr}`);
      assert.doesNotMatch(asJob.stdout + asJob.stderr, /forbidden|\b403\b/i);
      // The same command with JSON output: the admin scan on the host gives the same verdict.
      const json = await inCluster(`${NAME}-job-json`, [
        ...c.args.filter((a) => !a.startsWith("--output")),
        "--output=json",
      ]);
      const host = await sh(process.execPath, [
        join(REPO, "dist", "src", "cli", "bin.js"),
        "scan",
        "--kubeconfig",
        info().kubeconfig,
        "-o",
        "json",
      ]);
      assert.equal(json.code, host.code, json.stderr);
      assert.deepEqual(verdict(json.stdout), verdict(host.stdout));
      // The ServiceAccount, not a kubeconfig, was used (client-node names that context inClusterContext).
      assert.match(JSON.stringify((JSON.parse(json.stdout) as { target: unknown }).target), /in-?cluster/i);
    },
  );

  test("the restart CronJob's command runs from the image", { timeout: 240_000 }, async () => {
    const ds = info().daemonSet;
    assert.ok(ds);
    const out = join(work, "generated");
    mkdirSync(out);
    const gen = await sh(process.execPath, [
      join(REPO, "dist", "src", "cli", "bin.js"),
      "apply",
      "--kubeconfig",
      info().kubeconfig,
      "--only",
      `scheduled-restart-${ds.namespace}-${ds.name}`,
      "--output-dir",
      out,
      "--yes",
    ]);
    const file = join(out, `cnidoctor-scheduled-restart-${ds.name}.yaml`);
    assert.ok(existsSync(file), `${gen.stdout}\n${gen.stderr}`);
    const docs = parseAllDocuments(readFileSync(file, "utf8")).map(
      (d) => d.toJS() as Record<string, unknown>,
    );
    const cron = docs.find((d) => d.kind === "CronJob") as
      | {
          spec: {
            jobTemplate: {
              spec: { template: { spec: { containers: { image: string; args: string[] }[] } } };
            };
          };
        }
      | undefined;
    assert.ok(cron, "the generated file holds the CronJob");
    const c = cron.spec.jobTemplate.spec.template.spec.containers[0];
    assert.ok(c);
    assert.equal(c.image, IMAGE, "the CronJob names this image");
    // As the CronJob runs it: the image's entrypoint, the CronJob's args, /tmp a writable volume.
    const r = await podman([
      "run",
      "--rm",
      ...runFlags(`${NAME}-cron`),
      "--tmpfs",
      "/tmp",
      "-v",
      `${join(work, "admin.yaml")}:/etc/cnidoctor/kubeconfig:ro`,
      "-e",
      "KUBECONFIG=/etc/cnidoctor/kubeconfig",
      IMAGE,
      ...c.args,
    ]);
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout + r.stderr, /restart|calico-node/i);
  });
});
