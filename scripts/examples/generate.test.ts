import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readdir, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative, sep } from "node:path";
import {
  EXAMPLE_NAMES,
  NAMESPACE_FILES,
  exampleSpec,
  generateExamples,
  renderBundle,
  repoRoot,
  writeBundle,
} from "./generate.js";

const EXAMPLES_DIR = join(repoRoot(), "examples");

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) out.push(relative(dir, join(entry.parentPath, entry.name)).split(sep).join("/"));
  }
  return out.sort();
}

async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "cnidoctor-examples-"));
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function itemsOf(doc: unknown): Obj[] {
  assert.ok(isObj(doc) && Array.isArray(doc.items));
  return doc.items.filter(isObj);
}

function metaOf(item: Obj): Obj {
  assert.ok(isObj(item.metadata));
  return item.metadata;
}

test("regenerating the examples reproduces the committed files byte for byte", async () => {
  await withTempDir(async (dir) => {
    const names = await generateExamples(dir);
    assert.deepEqual(names, [...EXAMPLE_NAMES]);
    for (const name of names) {
      const fresh = await filesUnder(join(dir, name));
      const committed = await filesUnder(join(EXAMPLES_DIR, name));
      assert.deepEqual(fresh, committed, `${name}: file list differs; run npm run examples:build`);
      for (const rel of fresh) {
        const a = await readFile(join(dir, name, rel));
        const b = await readFile(join(EXAMPLES_DIR, name, rel));
        assert.ok(a.equals(b), `${name}/${rel} differs from the committed copy; run npm run examples:build`);
      }
    }
  });
});

test("every bundle has the cluster-info dump layout", async () => {
  for (const name of EXAMPLE_NAMES) {
    const dir = join(EXAMPLES_DIR, name);
    const files = await filesUnder(dir);
    const total = (await Promise.all(files.map(async (f) => (await stat(join(dir, f))).size))).reduce(
      (a, b) => a + b,
      0,
    );
    assert.ok(total < 320_000, `${name} is ${String(total)} bytes; keep examples small`);

    const nodesText = await readFile(join(dir, "nodes.json"), "utf8");
    assert.match(nodesText, /^\{\n {4}"kind": "NodeList",\n {4}"apiVersion": "v1",\n/);
    assert.ok(nodesText.endsWith("}\n"));
    const nodes = itemsOf(JSON.parse(nodesText));
    assert.ok(nodes.length >= 3 && nodes.length <= 6, `${name}: ${String(nodes.length)} nodes`);

    const namespaces = [...new Set(files.filter((f) => f.includes("/")).map((f) => f.split("/")[0] ?? ""))];
    assert.ok(
      namespaces.includes("kube-system") && namespaces.includes("default"),
      `${name}: ${namespaces.join(",")}`,
    );
    for (const ns of namespaces) {
      for (const spec of NAMESPACE_FILES) {
        const text = await readFile(join(dir, ns, spec.file), "utf8");
        assert.match(text, /^\{\n {4}"kind": /, `${name}/${ns}/${spec.file} is 4-space kubectl JSON`);
        const doc: unknown = JSON.parse(text);
        assert.ok(isObj(doc));
        assert.equal(doc.kind, spec.kind);
        assert.equal(doc.apiVersion, spec.apiVersion);
        for (const item of itemsOf(doc)) {
          assert.equal(item.kind, undefined, "list items carry no kind");
          assert.equal(item.apiVersion, undefined, "list items carry no apiVersion");
          assert.equal(metaOf(item).managedFields, undefined);
        }
      }
      await checkPodLogs(dir, ns, files);
    }
  }
});

async function checkPodLogs(dir: string, ns: string, files: string[]): Promise<void> {
  const pods = itemsOf(JSON.parse(await readFile(join(dir, ns, "pods.json"), "utf8")));
  const logFiles = files.filter((f) => f.startsWith(`${ns}/`) && f.endsWith("/logs.txt"));
  assert.equal(logFiles.length, pods.length, `${ns}: one logs.txt per pod`);
  for (const pod of pods) {
    const podName = String(metaOf(pod).name);
    const spec = pod.spec;
    assert.ok(isObj(spec));
    const names = [spec.initContainers, spec.containers].flatMap((l) =>
      Array.isArray(l) ? l.filter(isObj).map((c) => String(c.name)) : [],
    );
    const text = await readFile(join(dir, ns, podName, "logs.txt"), "utf8");
    const starts = [...text.matchAll(/^==== START logs for container (\S+) of pod (\S+) ====$/gm)];
    const ends = [...text.matchAll(/^==== END logs for container (\S+) of pod (\S+) ====$/gm)];
    assert.deepEqual(
      starts.map((m) => m[1]),
      names,
      `${ns}/${podName}: init containers first, then containers`,
    );
    assert.deepEqual(
      ends.map((m) => m[1]),
      names,
    );
    for (const m of starts) assert.equal(m[2], `${ns}/${podName}`);
    assert.doesNotMatch(
      text,
      /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z /m,
      "cluster-info dump logs have no kubelet timestamps",
    );
    const status = pod.status;
    assert.ok(isObj(status) && Array.isArray(status.containerStatuses));
    for (const cs of status.containerStatuses.filter(isObj)) {
      assert.match(String(cs.imageID), /@sha256:[0-9a-f]{64}$/);
    }
  }
}

function felixSpec(bundle: string, file: string): Promise<Obj[]> {
  return readFile(join(EXAMPLES_DIR, bundle, file), "utf8").then((t) => {
    const doc: unknown = JSON.parse(t);
    assert.ok(isObj(doc));
    assert.equal(doc.kind, "List");
    const items = itemsOf(doc);
    for (const item of items) assert.equal(item.apiVersion, "crd.projectcalico.org/v1");
    return items;
  });
}

test("the examples carry the facts each scenario is about", async () => {
  const storm = /failed to wipe the XDP state/;
  const affected = join(EXAMPLES_DIR, "rke1-canal-affected", "kube-system");
  const canalLogs = (await readdir(affected)).filter((d) => d.startsWith("canal-"));
  assert.equal(canalLogs.length, 4);
  let storming = 0;
  for (const d of canalLogs)
    if (storm.test(await readFile(join(affected, d, "logs.txt"), "utf8"))) storming++;
  assert.equal(storming, 2);
  const ds = await readFile(join(affected, "daemonsets.json"), "utf8");
  assert.match(ds, /"FELIX_LOGSEVERITYSCREEN",\n\s+"value": "Warning"/);
  assert.doesNotMatch(ds, /FELIX_XDPENABLED/);
  const yml = await readFile(join(EXAMPLES_DIR, "rke1-canal-affected", "cluster.yml"), "utf8");
  assert.match(yml, /^kubernetes_version: v1\.30\.3-rancher1-1$/m);
  assert.doesNotMatch(yml, /^system_images:/m);

  const rke2Canal = await readFile(
    join(EXAMPLES_DIR, "rke2-canal-xdp-off", "kube-system", "daemonsets.json"),
    "utf8",
  );
  assert.match(rke2Canal, /"FELIX_XDPENABLED",\n\s+"value": "false"/);
  await assert.rejects(stat(join(EXAMPLES_DIR, "rke2-canal-xdp-off", "felixconfigurations.json")));

  const [atRisk] = await felixSpec("rke2-calico-at-risk", "felixconfigurations.json");
  assert.ok(atRisk && isObj(atRisk.spec) && atRisk.spec.xdpEnabled === true);
  const [ebpf] = await felixSpec("ebpf-lookalike", "felixconfigurations.json");
  assert.ok(ebpf && isObj(ebpf.spec) && ebpf.spec.bpfEnabled === true);
  const [info] = await felixSpec("healthy", "clusterinformations.json");
  assert.ok(info && isObj(info.spec) && info.spec.calicoVersion === "v3.28.1");
});

test("writeBundle derives broken bundles from a good spec", async () => {
  await withTempDir(async (dir) => {
    const spec = exampleSpec("rke2-canal-xdp-off");
    const good = renderBundle(spec);
    const logPath = [...good.keys()].find((p) => /^kube-system\/rke2-canal-[^/]+\/logs\.txt$/.test(p));
    assert.ok(logPath);
    spec.files = {
      "kube-system/pods.json": null,
      "kube-system/daemonsets.json": '{\n    "kind": "DaemonSetList",\n    "items": [\n',
      [logPath]: new Uint8Array([0x00, 0xff, 0x1f, 0x8b, 0x00, 0x01]),
    };
    const written = await writeBundle(join(dir, "broken"), spec);
    assert.ok(!written.includes("kube-system/pods.json"));
    await assert.rejects(stat(join(dir, "broken", "kube-system", "pods.json")));
    const malformed = await readFile(join(dir, "broken", "kube-system", "daemonsets.json"), "utf8");
    assert.throws(() => JSON.parse(malformed) as unknown, SyntaxError);
    const bytes = await readFile(join(dir, "broken", ...logPath.split("/")));
    assert.deepEqual([...bytes], [0x00, 0xff, 0x1f, 0x8b, 0x00, 0x01]);
    // Untouched files are exactly the good ones.
    assert.equal(await readFile(join(dir, "broken", "nodes.json"), "utf8"), good.get("nodes.json"));
  });
});

test("variations change only what they say", () => {
  const spec = exampleSpec("rke1-canal-affected");
  spec.cni.felixEnv = { FELIX_XDPENABLED: "false" };
  const ds = renderBundle(spec).get("kube-system/daemonsets.json");
  assert.equal(typeof ds, "string");
  assert.match(String(ds), /"FELIX_XDPENABLED",\n\s+"value": "false"/);
  assert.throws(() => exampleSpec("no-such-bundle"), /no example bundle named/);
  const original = exampleSpec("rke1-canal-affected");
  assert.deepEqual(original.cni.felixEnv, {}, "exampleSpec returns copies");
});
