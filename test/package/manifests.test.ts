// The manifests and the Helm chart point at the real image: this package version's tag of the
// repository `npm run image` builds, overridable through values, and nothing else anywhere (no
// placeholder). The scan Job's RBAC is the same read-only rule set in the plain YAML and the chart,
// and reads no Secrets or ConfigMaps. No cluster here: the server-side dry runs are in
// test/integration/agent.test.ts, the image runs in image.test.ts.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join, relative } from "node:path";
import { parse as parseYaml, parseAllDocuments } from "yaml";
import { DEFAULT_PLAN_OPTIONS, IMAGE_REPOSITORY } from "../../src/remediate/types.js";
import { IMAGE, REPO, VERSION, sh } from "./tools.js";

const HELM = join(
  process.env.CNIDOCTOR_CACHE ?? join(homedir(), ".cache", "cnidoctor"),
  "helm",
  "v3.19.0",
  "bin",
  "helm",
);
const CHART = join(REPO, "deploy", "helm", "cnidoctor-agent");
const noHelm = existsSync(HELM)
  ? false
  : `skipped: helm not built (bash scripts/cluster/ensure-tools.sh builds it into ${HELM})`;
if (noHelm) process.stderr.write(`${noHelm}\n`);

type Doc = Record<string, unknown>;
interface Rule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
  resourceNames?: string[];
}

function docs(text: string): Doc[] {
  return parseAllDocuments(text)
    .map((d) => d.toJS() as Doc | null)
    .filter((d): d is Doc => d !== null);
}

/** Every `image` value in a parsed document, wherever it sits. */
function images(v: unknown, out: string[] = []): string[] {
  if (Array.isArray(v)) for (const x of v) images(x, out);
  else if (v !== null && typeof v === "object") {
    for (const [k, x] of Object.entries(v)) {
      if (k === "image" && typeof x === "string") out.push(x);
      else images(x, out);
    }
  }
  return out;
}

function yamlFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && /\.ya?ml$/.test(e.name) && !e.parentPath.includes("templates"))
    .map((e) => join(e.parentPath, e.name));
}

async function template(...set: string[]): Promise<Doc[]> {
  const r = await sh(HELM, [
    "template",
    "r",
    CHART,
    "--namespace",
    "cnidoctor",
    ...set.flatMap((s) => ["--set", s]),
  ]);
  assert.equal(r.code, 0, r.stderr);
  return docs(r.stdout);
}

function byKind(ds: Doc[], kind: string, nameSuffix = ""): Doc {
  const d = ds.find(
    (x) => x.kind === kind && String((x.metadata as { name?: string }).name).endsWith(nameSuffix),
  );
  assert.ok(d, `${kind} *${nameSuffix}`);
  return d;
}

function rules(clusterRole: Doc): Rule[] {
  return (clusterRole.rules as Rule[]).map((r) => ({
    apiGroups: [...r.apiGroups].sort(),
    resources: [...r.resources].sort(),
    verbs: [...r.verbs].sort(),
    ...(r.resourceNames !== undefined ? { resourceNames: [...r.resourceNames].sort() } : {}),
  }));
}

describe("manifests and chart name the real image", () => {
  test("the chart's version and appVersion are the package version", () => {
    const chart = parseYaml(readFileSync(join(CHART, "Chart.yaml"), "utf8")) as {
      version: string;
      appVersion: string;
    };
    assert.equal(chart.version, VERSION);
    assert.equal(chart.appVersion, VERSION);
  });

  test("every image in the plain manifests is this version's image", () => {
    const found: string[] = [];
    for (const f of yamlFiles(join(REPO, "deploy")).filter((f) => !f.includes("/helm/"))) {
      for (const img of images(docs(readFileSync(f, "utf8")))) {
        found.push(relative(REPO, f));
        assert.equal(img, IMAGE, `${relative(REPO, f)}: image ${img}`);
      }
    }
    assert.ok(found.includes("deploy/agent/daemonset.yaml") && found.includes("deploy/scan/job.yaml"));
  });

  test("the restart CronJob's default image is this version's image", () => {
    assert.equal(DEFAULT_PLAN_OPTIONS.image, IMAGE);
    assert.equal(`${IMAGE_REPOSITORY}:${VERSION}`, IMAGE);
  });

  test("no placeholder image is named in the deploy tree, the sources or the docs", () => {
    const placeholder =
      /(image|--image)[:= ]+["'`]?(<[^>]*>|[\w.-]*(placeholder|changeme|your-?registry)[\w./:-]*)/i;
    const roots = ["deploy", "docs", "src"].map((d) => join(REPO, d));
    const files = [
      join(REPO, "README.md"),
      ...roots.flatMap((r) =>
        readdirSync(r, { withFileTypes: true, recursive: true })
          .filter((e) => e.isFile() && /\.(ya?ml|md|ts|tpl)$/.test(e.name))
          .map((e) => join(e.parentPath, e.name)),
      ),
    ];
    for (const f of files) {
      const m = placeholder.exec(readFileSync(f, "utf8"));
      assert.equal(m, null, `${relative(REPO, f)}: ${m?.[0]}`);
    }
  });
});

describe("Helm chart", { skip: noHelm }, () => {
  test("lints", async () => {
    const r = await sh(HELM, ["lint", CHART, "--set", "scan.enabled=true"]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
  });

  test("defaults to this version's image for the agent and the scan Job; values override both", async () => {
    const ds = await template("scan.enabled=true");
    assert.deepEqual(images(ds), [IMAGE, IMAGE]);
    const air = await template(
      "scan.enabled=true",
      "image.repository=registry.example:5000/mirror/cnidoctor",
      "image.tag=0.1.0-rc1",
      "imagePullSecrets={regcred}",
    );
    assert.deepEqual(images(air), [
      "registry.example:5000/mirror/cnidoctor:0.1.0-rc1",
      "registry.example:5000/mirror/cnidoctor:0.1.0-rc1",
    ]);
    for (const kind of ["DaemonSet", "Job"]) {
      const spec = (byKind(air, kind).spec as { template: { spec: { imagePullSecrets?: unknown } } }).template
        .spec;
      assert.deepEqual(spec.imagePullSecrets, [{ name: "regcred" }], kind);
    }
  });

  test("node facts are opt-in: the host's /proc and /sys read-only under /host, and --host-root", async () => {
    interface Pod {
      containers: {
        args: string[];
        volumeMounts: { name: string; mountPath: string; readOnly?: boolean }[];
        securityContext: { capabilities: { drop: string[]; add?: string[] } };
      }[];
      volumes: { name: string; hostPath?: { path: string } }[];
    }
    const podOf = (ds: Doc[]): Pod =>
      (byKind(ds, "DaemonSet").spec as { template: { spec: Pod } }).template.spec;
    const off = podOf(await template());
    assert.ok(!off.containers[0]?.args.some((a) => a.startsWith("--host-root")));
    assert.ok(!off.volumes.some((v) => v.hostPath?.path === "/proc" || v.hostPath?.path === "/sys"));
    const on = podOf(await template("agent.nodeFacts.enabled=true"));
    const agent = on.containers[0];
    assert.ok(agent?.args.includes("--host-root=/host"));
    for (const [name, host] of [
      ["host-proc", "/proc"],
      ["host-sys", "/sys"],
    ] as const) {
      assert.equal(on.volumes.find((v) => v.name === name)?.hostPath?.path, host);
      assert.deepEqual(
        agent?.volumeMounts.find((m) => m.name === name),
        { name, mountPath: `/host${host}`, readOnly: true },
      );
    }
    // Still no capability: the facts it reads are world-readable.
    assert.deepEqual(agent?.securityContext.capabilities, { drop: ["ALL"] });
  });

  test("the scan Job is off by default; on, it runs `scan` once per revision as its own read-only account", async () => {
    assert.equal(
      (await template()).some((d) => d.kind === "Job"),
      false,
    );
    const ds = await template("scan.enabled=true", "scan.nodes=node-role.kubernetes.io/worker=true");
    const job = byKind(ds, "Job", "-scan-1");
    const pod = (
      job.spec as {
        backoffLimit: number;
        template: {
          spec: {
            serviceAccountName: string;
            restartPolicy: string;
            securityContext: { runAsNonRoot: boolean };
            containers: { args: string[]; securityContext: { readOnlyRootFilesystem: boolean } }[];
          };
        };
      }
    ).template.spec;
    assert.equal((job.spec as { backoffLimit: number }).backoffLimit, 0);
    assert.equal(pod.serviceAccountName, "r-scan");
    assert.equal(pod.restartPolicy, "Never");
    assert.equal(pod.securityContext.runAsNonRoot, true);
    assert.equal(pod.containers[0]?.securityContext.readOnlyRootFilesystem, true);
    assert.deepEqual(pod.containers[0]?.args.slice(0, 1), ["scan"]);
    assert.ok(pod.containers[0]?.args.includes("--nodes=node-role.kubernetes.io/worker=true"));
    const binding = byKind(ds, "ClusterRoleBinding", "-scan") as { subjects: { name: string }[] };
    assert.equal(binding.subjects[0]?.name, "r-scan");
  });

  test("the scan RBAC is the plain manifest's, read-only, with no Secrets and ConfigMaps only by name", async () => {
    const plain = byKind(
      docs(readFileSync(join(REPO, "deploy", "rbac", "cnidoctor-scan.yaml"), "utf8")),
      "ClusterRole",
    );
    const chart = byKind(await template("scan.enabled=true"), "ClusterRole", "-scan");
    assert.deepEqual(rules(chart), rules(plain));
    for (const r of rules(chart)) {
      for (const v of r.verbs)
        assert.ok(["get", "list"].includes(v), `verb ${v} on ${r.resources.join(",")}`);
      for (const res of r.resources) assert.ok(res !== "secrets", res);
      // ConfigMaps only by name, with get: the CNI's flannel ConfigMaps, never a list.
      if (r.resources.includes("configmaps")) {
        assert.deepEqual(r.resources, ["configmaps"]);
        assert.deepEqual(r.verbs, ["get"]);
        assert.deepEqual(r.resourceNames, ["canal-config", "kube-flannel-cfg", "rke2-canal-config"]);
      }
    }
    const narrow = rules(
      byKind(await template("scan.enabled=true", "scan.kubeletMetrics=false"), "ClusterRole", "-scan"),
    );
    assert.ok(!narrow.some((r) => r.resources.includes("nodes/proxy")));
  });
});
