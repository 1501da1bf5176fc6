import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  DEFAULT_DATA_DIR,
  loadVersionTables,
  parseImageRef,
  calicoVersionFromImage,
  rke1FixedVersionFor,
  rke1ImagesFor,
  rke2FixedReleaseFor,
} from "./index.js";

const dataDir = fileURLToPath(DEFAULT_DATA_DIR);
const tables = loadVersionTables();

void test("DEFAULT_DATA_DIR points at the package's data/ directory", () => {
  assert.ok(existsSync(join(dataDir, "rke1-kubernetes.json")), dataDir);
  assert.ok(existsSync(join(dataDir, "..", "package.json")));
});

void test("loadVersionTables accepts a directory path and rejects a missing one", () => {
  const again = loadVersionTables(dataDir);
  assert.deepEqual(Object.keys(again.rke1Kubernetes), Object.keys(tables.rke1Kubernetes));
  assert.throws(() => loadVersionTables(join(tmpdir(), "no-such-cnidoctor-dir")));
});

void test("generated JSON is sorted, 2-space indented and ends with a newline", () => {
  for (const name of [
    "rke1-kubernetes.json",
    "rke2-releases.json",
    "rke-cli-releases.json",
    "k8s-version-info.json",
  ]) {
    const text = readFileSync(join(dataDir, name), "utf8");
    assert.ok(text.endsWith("}\n"), name);
    assert.equal(text, `${JSON.stringify(JSON.parse(text), null, 2)}\n`, name);
  }
});

void test("RKE1 v1.30.3-rancher1-1 runs affected Calico 3.28.0", () => {
  const e = tables.rke1Kubernetes["v1.30.3-rancher1-1"];
  assert.ok(e);
  assert.equal(e.calicoVersion, "v3.28.0");
  assert.equal(e.status, "affected");
  assert.equal(e.systemImages.calico_node, "rancher/mirrored-calico-node:v3.28.0");
  assert.equal(e.systemImages.canal_flannel, "rancher/mirrored-flannel-flannel:v0.25.1");
  assert.deepEqual(e.enabledInRancher, ["v2.9.1"]);
});

void test("every RKE1 entry's calico_node tag agrees with its calicoVersion", () => {
  for (const [k8s, e] of Object.entries(tables.rke1Kubernetes)) {
    const ref = parseImageRef(e.systemImages.calico_node);
    assert.ok(ref, k8s);
    assert.equal(calicoVersionFromImage(ref)?.text, e.calicoVersion, k8s);
  }
});

void test("rke1FixedVersionFor 1.30 is v1.30.4-rancher1-1 with calico-cni v3.28.1-rancher1", () => {
  const fixed = rke1FixedVersionFor("v1.30.3-rancher1-1", tables);
  assert.ok(fixed);
  assert.equal(fixed.k8sVersion, "v1.30.4-rancher1-1");
  assert.equal(fixed.calicoVersion, "v3.28.1");
  assert.equal(fixed.systemImages.calico_cni, "rancher/calico-cni:v3.28.1-rancher1");
  assert.equal(fixed.systemImages.canal_cni, "rancher/calico-cni:v3.28.1-rancher1");
  assert.equal(fixed.minRkeCli, "v1.6.2");
  assert.deepEqual(fixed.minRancher, ["v2.9.2"]);
  assert.equal(fixed.minRkeForMinor, "1.6.0-rc0");
  assert.equal(fixed.minRancherForMinor, "2.9.0-patch0");
});

void test("rke1FixedVersionFor other minors", () => {
  assert.equal(rke1FixedVersionFor("v1.29.6-rancher1-1", tables)?.k8sVersion, "v1.29.8-rancher1-1");
  const f128 = rke1FixedVersionFor("v1.28.10-rancher1-1", tables);
  assert.equal(f128?.k8sVersion, "v1.28.13-rancher1-1");
  assert.equal(f128.minRkeCli, "v1.5.13");
  assert.deepEqual(f128.minRancher, ["v2.8.8", "v2.9.2"]);
  // 1.31.1 is still on 3.28.0 in the 2024-10-21 snapshot: no fixed 1.31 version known.
  assert.equal(rke1FixedVersionFor("v1.31.1-rancher1-1", tables), undefined);
  assert.equal(rke1FixedVersionFor("v1.27.16-rancher1-1", tables), undefined);
  assert.equal(rke1FixedVersionFor("nonsense", tables), undefined);
});

void test("rke1ImagesFor", () => {
  assert.equal(
    rke1ImagesFor("v1.29.7-rancher1-1", tables)?.calico_node,
    "rancher/mirrored-calico-node:v3.27.3",
  );
  assert.equal(
    rke1ImagesFor("v1.30.4-rancher1-1", tables)?.calico_cni,
    "rancher/calico-cni:v3.28.1-rancher1",
  );
  assert.equal(rke1ImagesFor("v9.99.9-rancher1-1", tables), undefined);
});

void test("RKE2 v1.27.16+rke2r2: rke2-calico still 3.27.3, rke2-canal 3.28.1", () => {
  const r = tables.rke2Releases["v1.27.16+rke2r2"];
  assert.ok(r);
  assert.equal(r.charts["rke2-calico"].chartVersion, "v3.27.300");
  assert.equal(r.charts["rke2-calico"].calicoVersion, "v3.27.3");
  assert.equal(r.charts["rke2-calico"].status, "affected");
  assert.equal(r.charts["rke2-calico"].xdpEnabledByChart, true);
  assert.equal(r.charts["rke2-canal"].calicoVersion, "v3.28.1");
  assert.equal(r.charts["rke2-canal"].hardenedCalicoTag, "v3.28.1-build20240806");
  assert.equal(r.charts["rke2-canal"].xdpEnabledByChart, false);
  assert.equal(r.tagDate, "2024-08-21");
});

void test("RKE2 v1.30.3+rke2r1 chart mapping and Rancher range", () => {
  const r = tables.rke2Releases["v1.30.3+rke2r1"];
  assert.ok(r);
  assert.equal(r.charts["rke2-calico"].calicoVersion, "v3.27.3");
  assert.equal(r.charts["rke2-canal"].chartVersion, "v3.28.0-build2024062503");
  assert.equal(r.charts["rke2-canal"].calicoNodeImage, "rancher/hardened-calico:v3.28.0-build20240625");
  assert.equal(r.rancher?.minChannelServerVersion, "v2.9.0-alpha1");
  assert.equal(r.rancher.maxChannelServerVersion, "v2.9.99");
});

void test("rke2-canal never enables XDP; rke2-calico always does", () => {
  for (const [release, r] of Object.entries(tables.rke2Releases)) {
    assert.equal(r.charts["rke2-canal"].xdpEnabledByChart, false, release);
    assert.equal(r.charts["rke2-calico"].xdpEnabledByChart, true, release);
  }
});

void test("rke2FixedReleaseFor", () => {
  const calico130 = rke2FixedReleaseFor("v1.30.2+rke2r1", "rke2-calico", tables);
  assert.equal(calico130?.rke2Version, "v1.30.4+rke2r1");
  assert.equal(calico130.chartVersion, "v3.28.100");
  assert.equal(calico130.calicoVersion, "v3.28.1");
  assert.equal(rke2FixedReleaseFor("v1.27.15+rke2r1", "rke2-calico", tables), undefined);
  assert.equal(rke2FixedReleaseFor("v1.27.15+rke2r1", "rke2-canal", tables)?.rke2Version, "v1.27.16+rke2r2");
  assert.equal(rke2FixedReleaseFor("v1.28.9+rke2r1", "rke2-calico", tables)?.rke2Version, "v1.28.13+rke2r1");
  assert.equal(rke2FixedReleaseFor("v1.29.4+rke2r1", "rke2-canal", tables)?.rke2Version, "v1.29.8+rke2r1");
  assert.equal(rke2FixedReleaseFor("v1.31.0+rke2r1", "rke2-calico", tables)?.rke2Version, "v1.31.0+rke2r1");
  assert.equal(rke2FixedReleaseFor("garbage", "rke2-calico", tables), undefined);
});

void test("RKE CLI releases and k8s version info", () => {
  const r = tables.rkeCliReleases["v1.6.1"];
  assert.ok(r);
  assert.equal(r.defaultK8s, "v1.30.3-rancher1-1");
  assert.equal(r.prerelease, false);
  assert.deepEqual(
    r.k8sWithAffectedCalico.map((k) => k.k8sVersion),
    ["v1.29.6-rancher1-1", "v1.29.7-rancher1-1", "v1.30.2-rancher1-1", "v1.30.3-rancher1-1"],
  );
  assert.equal(tables.rkeCliReleases["v1.6.2-rc.2"]?.prerelease, true);
  assert.equal(tables.k8sVersionInfo["v1.30"]?.minRancherVersion, "2.9.0-patch0");
  assert.equal(tables.k8sVersionInfo["v1.28"]?.minRKEVersion, "1.5.0-rc0");
});
