import { test } from "node:test";
import assert from "node:assert/strict";
import { calicoVersionFromImage, isCalicoNodeImage, parseImageRef } from "./index.js";

interface RefCase {
  raw: string;
  registry?: string;
  repository: string;
  tag?: string;
  digest?: string;
}

const DIGEST = `sha256:${"ab".repeat(32)}`;

const refCases: RefCase[] = [
  { raw: "rancher/mirrored-calico-node:v3.28.0", repository: "rancher/mirrored-calico-node", tag: "v3.28.0" },
  {
    raw: "registry.local:5000/rancher/mirrored-calico-node:v3.28.0",
    registry: "registry.local:5000",
    repository: "rancher/mirrored-calico-node",
    tag: "v3.28.0",
  },
  { raw: "quay.io/calico/node:v3.27.3", registry: "quay.io", repository: "calico/node", tag: "v3.27.3" },
  {
    raw: "docker.io/rancher/mirrored-calico-node:v3.27.3",
    registry: "docker.io",
    repository: "rancher/mirrored-calico-node",
    tag: "v3.27.3",
  },
  {
    raw: "index.docker.io/calico/node:v3.26.1",
    registry: "docker.io",
    repository: "calico/node",
    tag: "v3.26.1",
  },
  { raw: "nginx", repository: "nginx" },
  { raw: "library/nginx:1.27", repository: "nginx", tag: "1.27" },
  { raw: "docker.io/library/nginx:1.27", registry: "docker.io", repository: "nginx", tag: "1.27" },
  // library/ is only Docker Hub's namespace; elsewhere it is kept.
  { raw: "quay.io/library/nginx", registry: "quay.io", repository: "library/nginx" },
  { raw: "localhost/calico/node:v3.28.1", registry: "localhost", repository: "calico/node", tag: "v3.28.1" },
  { raw: "localhost:5000/node", registry: "localhost:5000", repository: "node" },
  { raw: `calico/node@${DIGEST}`, repository: "calico/node", digest: DIGEST },
  { raw: `calico/node:v3.28.0@${DIGEST}`, repository: "calico/node", tag: "v3.28.0", digest: DIGEST },
  { raw: "calico/node", repository: "calico/node" },
  {
    raw: "  rancher/hardened-calico:v3.28.0-build20240625\n",
    repository: "rancher/hardened-calico",
    tag: "v3.28.0-build20240625",
  },
  {
    raw: "a.b.c/deep/path/to/calico/node:v3.28.1",
    registry: "a.b.c",
    repository: "deep/path/to/calico/node",
    tag: "v3.28.1",
  },
  // Without a dot, colon or "localhost" the first component is a namespace, not a registry.
  { raw: "myregistry/calico/node:v3.28.1", repository: "myregistry/calico/node", tag: "v3.28.1" },
  { raw: "my_org/some__name/x-y--z:TAG_1.0", repository: "my_org/some__name/x-y--z", tag: "TAG_1.0" },
];

for (const c of refCases) {
  void test(`parseImageRef(${JSON.stringify(c.raw)})`, () => {
    const ref = parseImageRef(c.raw);
    assert.ok(ref, "parses");
    assert.equal(ref.raw, c.raw);
    assert.equal(ref.registry, c.registry);
    assert.equal(ref.repository, c.repository);
    assert.equal(ref.tag, c.tag);
    assert.equal(ref.digest, c.digest);
  });
}

const badRefs = [
  "",
  "   ",
  "Rancher/mirrored-calico-node:v3.28.0",
  "rancher/Mirrored-Calico-Node",
  "rancher/mirrored calico-node:v3.28.0",
  "rancher/mirrored-calico-node:",
  "rancher/mirrored-calico-node:v3.28.0:extra",
  "rancher//node",
  "/rancher/node",
  "rancher/node/",
  "calico/node@sha256:abc",
  `calico/node@sha256:${"AB".repeat(32)}`,
  "calico/node@",
  ":v3.28.0",
  "registry.local:5000/",
  "-leading/dash",
  "calico/node:-bad",
  `calico/node:${"x".repeat(129)}`,
  "reg:istry:5000/calico/node",
  "\u0000",
];

for (const raw of badRefs) {
  void test(`parseImageRef rejects ${JSON.stringify(raw)}`, () => {
    assert.equal(parseImageRef(raw), undefined);
  });
}

interface VersionCase {
  raw: string;
  text: string | undefined;
  build?: string;
  node: boolean;
}

const versionCases: VersionCase[] = [
  { raw: "rancher/mirrored-calico-node:v3.28.0", text: "v3.28.0", node: true },
  { raw: "calico/node:v3.27.3", text: "v3.27.3", node: true },
  { raw: "quay.io/calico/node:v3.26.5", text: "v3.26.5", node: true },
  { raw: "docker.io/rancher/mirrored-calico-node:v3.27.3", text: "v3.27.3", node: true },
  { raw: "registry.local:5000/rancher/mirrored-calico-node:v3.28.0", text: "v3.28.0", node: true },
  {
    raw: "rancher/hardened-calico:v3.28.0-build20240625",
    text: "v3.28.0",
    build: "build20240625",
    node: true,
  },
  { raw: "rancher/calico-cni:v3.28.0-rancher1", text: "v3.28.0", build: "rancher1", node: false },
  { raw: "rancher/mirrored-calico-cni:v3.27.3", text: "v3.27.3", node: false },
  { raw: "rancher/mirrored-calico-kube-controllers:v3.28.1", text: "v3.28.1", node: false },
  { raw: "rancher/mirrored-calico-pod2daemon-flexvol:v3.28.0", text: "v3.28.0", node: false },
  { raw: "rancher/mirrored-calico-ctl:v3.28.0", text: "v3.28.0", node: false },
  { raw: "calico/typha:v3.28.1", text: "v3.28.1", node: false },
  { raw: "rancher/calico-node:v3.13.4", text: "v3.13.4", node: true },
  { raw: `calico/node:v3.28.0@sha256:${"cd".repeat(32)}`, text: "v3.28.0", node: true },
  // Not Calico releases: operator versions, tooling, flannel.
  { raw: "quay.io/tigera/operator:v1.34.0", text: undefined, node: false },
  { raw: "rancher/mirrored-calico-operator:v1.34.0", text: undefined, node: false },
  { raw: "calico/bpftool:v5.3-amd64", text: undefined, node: false },
  { raw: "rancher/mirrored-flannel-flannel:v0.25.1", text: undefined, node: false },
  { raw: "rancher/hardened-flannel:v0.25.4-build20240610", text: undefined, node: false },
  { raw: "nginx:1.27.0", text: undefined, node: false },
  // Node images whose version is unknown.
  { raw: `calico/node@sha256:${"cd".repeat(32)}`, text: undefined, node: true },
  { raw: "calico/node:latest", text: undefined, node: true },
  { raw: "calico/node:master", text: undefined, node: true },
  { raw: "calico/node", text: undefined, node: true },
];

for (const c of versionCases) {
  void test(`calicoVersionFromImage / isCalicoNodeImage(${c.raw})`, () => {
    const ref = parseImageRef(c.raw);
    assert.ok(ref);
    const v = calicoVersionFromImage(ref);
    assert.equal(v?.text, c.text);
    assert.equal(v?.build, c.build);
    assert.equal(isCalicoNodeImage(ref), c.node);
  });
}

void test("calicoVersionFromImage fills major/minor/patch", () => {
  const ref = parseImageRef("rancher/mirrored-calico-node:v3.28.0");
  assert.ok(ref);
  assert.deepEqual(calicoVersionFromImage(ref), { major: 3, minor: 28, patch: 0, text: "v3.28.0" });
});
