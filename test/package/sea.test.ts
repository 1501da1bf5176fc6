// The single-file kubectl plugin (scripts/sea/build.ts, `npm run sea`): the krew manifest and
// archives are what krew expects; the executable gives the npm install's reports and exit codes on
// the host, through kubectl's plugin discovery, and inside an image with no Node at all (glibc only,
// scripts/sea/glibc-image.sh) on the bundled examples and against the harness (host network,
// loopback, mounted kubeconfig). Missing tools skip their part with a printed reason.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Worker } from "node:worker_threads";
import { parse as parseYaml } from "yaml";
import { startCluster, stopCluster, type ClusterInfo } from "../../scripts/cluster/cluster.js";
import { findKubectl } from "../../scripts/cluster/tools.js";
import { loadAdvisories } from "../../src/advisories/load.js";
import { REPO, VERSION, missing, podman, sh, which, type Run } from "./tools.js";

const SEA = join(REPO, "dist", "sea");
const EXE = join(SEA, "kubectl-cnidoctor");
const BIN_JS = join(REPO, "dist", "src", "cli", "bin.js");
const EXAMPLES = readdirSync(join(REPO, "examples"), { withFileTypes: true })
  .filter((e) => e.isDirectory())
  .map((e) => e.name)
  .sort();
const NAME = `it-sea-${process.pid}`;
const work = mkdtempSync(join(tmpdir(), "cnid-it-sea-"));
chmodSync(work, 0o755); // the test image's user (65532) reads the mounted files
/** A private unpack directory, so the tests see a first run and leave nothing in ~/.cache. */
const runtimeDir = join(work, "runtime");
const containerSkip = missing("podman", "buildah");
let glibcImage: string | undefined;
let cluster: ClusterInfo | undefined;

function exe(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  return sh(EXE, args, { env: { ...process.env, CNIDOCTOR_RUNTIME_DIR: runtimeDir, ...env } });
}

function npmInstall(args: string[]): Promise<Run> {
  return sh(process.execPath, [BIN_JS, ...args], { cwd: REPO });
}

/** The skip reason when kubectl is absent, printed like missing()'s. */
function noKubectl(): string | false {
  if (which(findKubectl()) !== undefined) return false;
  const reason = "skipped: kubectl not installed (bash scripts/cluster/ensure-tools.sh)";
  process.stderr.write(`${reason}\n`);
  return reason;
}

/** A JSON report without the fields that differ between two runs (its time). */
function comparable(out: string): unknown {
  const r = JSON.parse(out) as Record<string, unknown>;
  delete r.generatedAt;
  return r;
}

function sha256(file: string): string {
  return createHash("sha256").update(readFileSync(file)).digest("hex");
}

before(
  async () => {
    if (!existsSync(EXE)) {
      const b = await sh(process.execPath, [join(REPO, "dist", "scripts", "sea", "build.js")]);
      assert.equal(b.code, 0, `npm run sea failed: ${b.stderr}`);
    }
    if (!containerSkip) {
      const g = await sh("bash", [join(REPO, "scripts", "sea", "glibc-image.sh")]);
      assert.equal(g.code, 0, g.stderr);
      glibcImage = g.stdout.trim();
    }
  },
  { timeout: 900_000 },
);

after(
  async () => {
    if (cluster) await stopCluster({ name: NAME });
    rmSync(work, { recursive: true, force: true });
  },
  { timeout: 120_000 },
);

describe("krew manifest and archives", () => {
  interface Platform {
    selector?: { matchLabels?: { os?: string; arch?: string } };
    uri?: string;
    sha256?: string;
    bin?: string;
    files?: { from?: string; to?: string }[];
  }
  interface Manifest {
    apiVersion?: string;
    kind?: string;
    metadata?: { name?: string };
    spec?: {
      version?: string;
      homepage?: string;
      shortDescription?: string;
      description?: string;
      platforms?: Platform[];
    };
  }
  const manifest = (): Manifest => parseYaml(readFileSync(join(SEA, "cnidoctor.yaml"), "utf8")) as Manifest;

  test("the manifest has krew's required fields and this version", () => {
    const m = manifest();
    assert.equal(m.apiVersion, "krew.googlecontainertools.github.com/v1alpha2");
    assert.equal(m.kind, "Plugin");
    assert.equal(m.metadata?.name, "cnidoctor");
    assert.equal(m.spec?.version, `v${VERSION}`);
    assert.match(m.spec?.homepage ?? "", /^https:\/\//);
    assert.ok((m.spec?.shortDescription ?? "").length > 0 && (m.spec?.shortDescription ?? "").length <= 80);
    assert.ok((m.spec?.description ?? "").length > 0);
    const platforms = m.spec?.platforms ?? [];
    assert.ok(
      platforms.some(
        (p) => p.selector?.matchLabels?.os === "linux" && p.selector.matchLabels.arch === "amd64",
      ),
    );
    for (const p of platforms) {
      assert.ok(p.selector?.matchLabels?.os && p.selector.matchLabels.arch, "platform selector os/arch");
      assert.match(p.uri ?? "", /^https:\/\/\S+\.tar\.gz$/);
      assert.doesNotMatch(p.uri ?? "", /\{version\}/);
      assert.match(p.sha256 ?? "", /^[0-9a-f]{64}$/);
      assert.equal(p.bin, "kubectl-cnidoctor");
      assert.ok((p.files ?? []).length > 0);
    }
  });

  test("each platform's sha256 is its archive's, and the archive holds the bin and the files", async () => {
    for (const p of manifest().spec?.platforms ?? []) {
      const { os, arch } = p.selector?.matchLabels ?? {};
      const name = `kubectl-cnidoctor-${os}-${arch}.tar.gz`;
      assert.ok(p.uri?.endsWith(`/${name}`), `${p.uri} names ${name}`);
      const archive = join(SEA, name);
      assert.equal(p.sha256, sha256(archive), `${name}: sha256`);
      assert.equal(readFileSync(`${archive}.sha256`, "utf8"), `${p.sha256}  ${name}\n`);
      const listing = await sh("tar", ["-tvzf", archive]);
      assert.equal(listing.code, 0, listing.stderr);
      const entries = new Map(
        listing.stdout
          .trim()
          .split("\n")
          .map((l) => {
            const f = l.trim().split(/\s+/);
            return [f[f.length - 1] ?? "", f[0] ?? ""] as const;
          }),
      );
      for (const f of p.files ?? []) assert.ok(entries.has(f.from ?? ""), `${name} holds ${f.from}`);
      // krew links the bin from where `files` put it: here the archive's top level.
      assert.ok(
        (p.files ?? []).some((f) => f.from === p.bin && f.to === "."),
        "the bin is among the files copied",
      );
      assert.match(entries.get(p.bin ?? "") ?? "", /^-rwx/, `${p.bin} is executable in ${name}`);
    }
  });

  test("the template is the manifest without the build's fields", () => {
    const template = parseYaml(readFileSync(join(REPO, "plugins", "cnidoctor.yaml"), "utf8")) as Manifest;
    const built = manifest();
    assert.deepEqual(
      { ...built.spec, version: undefined, platforms: undefined },
      { ...template.spec, version: undefined, platforms: undefined },
    );
    for (const p of built.spec?.platforms ?? []) {
      const t = (template.spec?.platforms ?? []).find(
        (x) => x.selector?.matchLabels?.arch === p.selector?.matchLabels?.arch,
      );
      assert.ok(t, `template has ${p.selector?.matchLabels?.arch}`);
      assert.deepEqual(
        { ...p, uri: undefined, sha256: undefined },
        { ...t, uri: undefined, sha256: undefined },
      );
    }
  });
});

describe("single file on the host", () => {
  test("--version is the package's", async () => {
    const r = await exe(["--version"]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), `cnidoctor ${VERSION}`);
    assert.equal(r.stderr, "", "no warning on stderr");
  });

  test("scan --bundle on every example gives the npm install's report and exit code", async () => {
    for (const ex of EXAMPLES) {
      const bundle = join("examples", ex);
      const [a, b] = await Promise.all([
        exe(["scan", "--bundle", join(REPO, bundle), "-o", "json"]),
        npmInstall(["scan", "--bundle", join(REPO, bundle), "-o", "json"]),
      ]);
      assert.equal(a.code, b.code, `${ex}: exit code (${a.stderr})`);
      assert.deepEqual(comparable(a.stdout), comparable(b.stdout), ex);
    }
  });

  test("bad input is the same one line and exit 2", async () => {
    const args = ["scan", "--bundle", join(work, "no-such-dir")];
    const [a, b] = await Promise.all([exe(args), npmInstall(args)]);
    assert.equal(b.code, 2);
    assert.equal(a.code, b.code);
    assert.equal(a.stderr, b.stderr);
  });

  test("concurrent first runs unpack one private copy of the data files", async () => {
    const dir = join(work, "race");
    const runs = await Promise.all(
      [1, 2, 3, 4].map(() => exe(["--version"], { CNIDOCTOR_RUNTIME_DIR: dir })),
    );
    for (const r of runs) assert.equal(r.code, 0, r.stderr);
    const entries = readdirSync(dir);
    assert.equal(entries.length, 1, `one copy, no leftovers: ${entries.join(", ")}`);
    assert.equal(statSync(dir).mode & 0o077, 0, "private to the user");
  });

  test("a shared base directory writable by others is not used", async () => {
    const shared = join(work, "shared");
    mkdirSync(shared);
    chmodSync(shared, 0o777);
    const r = await exe(["--version"], { CNIDOCTOR_RUNTIME_DIR: shared, XDG_CACHE_HOME: join(work, "xdg") });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(readdirSync(shared), []);
    assert.equal(readdirSync(join(work, "xdg", "cnidoctor")).length, 1);
  });

  test("the unpacked log worker runs (a failing worker would be hidden by the one-thread fallback)", async () => {
    const unpacked = readdirSync(runtimeDir).find((d) => d.startsWith("sea-"));
    assert.ok(unpacked, "an unpacked copy after the runs above");
    const log = join(work, "felix.log");
    const text = readFileSync(
      join(REPO, "examples", "rke1-canal-affected", "kube-system", "canal-2flk7", "logs.txt"),
    );
    writeFileSync(log, text);
    const source = (await loadAdvisories()).map((a) => ({
      id: a.id,
      signatures: a.signatures,
      fingerprints: a.fingerprints,
    }));
    const worker = new Worker(join(runtimeDir, unpacked, "dist", "src", "logs", "worker.js"), {
      workerData: { path: log, from: 0, to: text.length, source },
    });
    const kinds = await new Promise<string[]>((resolve, reject) => {
      const seen: string[] = [];
      worker.on("message", (m: { kind: string }) => {
        seen.push(m.kind);
        if (m.kind === "done") resolve(seen);
      });
      worker.on("error", reject);
      worker.on("exit", (code) => reject(new Error(`worker exited with ${code} after ${seen.join(",")}`)));
    });
    await worker.terminate();
    assert.equal(kinds.at(-1), "done");
  });

  test(
    "kubectl finds it on PATH: `kubectl cnidoctor --help` is the CLI's help",
    { skip: noKubectl() },
    async () => {
      const bin = join(work, "bin");
      mkdirSync(bin, { recursive: true });
      copyFileSync(EXE, join(bin, "kubectl-cnidoctor"));
      chmodSync(join(bin, "kubectl-cnidoctor"), 0o755);
      const env = {
        ...process.env,
        PATH: `${bin}:${process.env.PATH ?? ""}`,
        CNIDOCTOR_RUNTIME_DIR: runtimeDir,
        KUBECONFIG: join(work, "none.yaml"),
      };
      const list = await sh(findKubectl(), ["plugin", "list"], { env });
      assert.match(list.stdout, new RegExp(`${bin}/kubectl-cnidoctor`), list.stderr);
      const [help, expected] = await Promise.all([
        sh(findKubectl(), ["cnidoctor", "--help"], { env }),
        npmInstall(["--help"]),
      ]);
      assert.equal(help.code, 0, help.stderr);
      assert.equal(help.stdout, expected.stdout);
    },
  );
});

describe("single file in an image with no Node (glibc only)", { skip: containerSkip }, () => {
  const image = (): string => {
    assert.ok(glibcImage, "glibc image not built");
    return glibcImage;
  };
  /** podman run flags: read-only root, the executable mounted, host network for the harness. */
  const run = (name: string, mounts: string[], args: string[]): Promise<Run> =>
    podman([
      "run",
      "--rm",
      "--name",
      `${NAME}-${name}`,
      "--network=host",
      "--read-only",
      "--workdir",
      "/",
      "-v",
      `${EXE}:/usr/local/bin/kubectl-cnidoctor:ro`,
      ...mounts.flatMap((m) => ["-v", m]),
      image(),
      "kubectl-cnidoctor",
      ...args,
    ]);

  test("the image has no node and no shell", async () => {
    for (const path of ["/usr/local/bin/node", "/usr/bin/node", "/bin/sh"]) {
      const r = await podman(["run", "--rm", "--read-only", image(), path, "--version"]);
      assert.notEqual(r.code, 0, `${path} should not exist`);
    }
  });

  test("scan --bundle on every example gives the npm install's report and exit code", async () => {
    for (const ex of EXAMPLES) {
      const [a, b] = await Promise.all([
        run(
          `ex-${ex}`,
          [`${join(REPO, "examples")}:/examples:ro`],
          ["scan", "--bundle", `examples/${ex}`, "-o", "json"],
        ),
        npmInstall(["scan", "--bundle", `examples/${ex}`, "-o", "json"]),
      ]);
      assert.equal(a.code, b.code, `${ex}: exit code (${a.stderr})`);
      assert.deepEqual(comparable(a.stdout), comparable(b.stdout), ex);
    }
  });

  test(
    "against the harness with a mounted kubeconfig, scan gives the host's verdict",
    { timeout: 600_000 },
    async () => {
      cluster = await startCluster({ scenario: "rke1-canal-affected", nodes: 3, name: NAME });
      const kc = join(work, "admin.yaml");
      writeFileSync(kc, readFileSync(cluster.kubeconfig));
      chmodSync(kc, 0o644);
      const host = await npmInstall(["scan", "--kubeconfig", cluster.kubeconfig, "-o", "json"]);
      const inImage = await run(
        "scan",
        [`${kc}:/etc/cnidoctor/kubeconfig:ro`],
        ["scan", "--kubeconfig", "/etc/cnidoctor/kubeconfig", "-o", "json"],
      );
      assert.equal(host.code, 3, host.stderr);
      assert.equal(inImage.code, host.code, inImage.stderr);
      const verdict = (out: string): unknown => {
        const r = JSON.parse(out) as {
          summary?: unknown;
          findings?: { advisoryId?: string; status?: string; nodes?: unknown }[];
        };
        return [
          r.summary,
          (r.findings ?? []).map((f) => [f.advisoryId, f.status, JSON.stringify(f.nodes)]).sort(),
        ];
      };
      assert.deepEqual(verdict(inImage.stdout), verdict(host.stdout));
    },
  );
});
