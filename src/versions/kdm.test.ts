// KDM files read at run time, on the real snapshots copied into test/fixtures/kdm by
// scripts/data/kdm-fixtures.ts and on its generated newer file.

import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { loadAdvisories, SHIPPED_ADVISORIES_DIR } from "../advisories/load.js";
import { advisoryClassifier, checkVersions } from "./gate.js";
import { extendTables, parseKdm } from "./kdm.js";
import { rancherOffersRke2 } from "./rancher.js";
import { defaultVersionTables } from "./tables.js";

const FIXTURES = new URL("../../../test/fixtures/kdm/", import.meta.url);
const advisories = await loadAdvisories(SHIPPED_ADVISORIES_DIR);
const classify = advisoryClassifier(advisories);
const shipped = defaultVersionTables();

function load(name: string) {
  return extendTables(shipped, parseKdm(name, readFileSync(new URL(name, FIXTURES), "utf8")), classify);
}

test("the real release-v2.9 channels of 2024-08-29 agree with the shipped tables on every release", () => {
  const t = load("kdm_release-v2.9_2024-08-29_8a6018c7.channels-rke2.yaml");
  const charts = (t.kdmOverrides ?? []).filter((o) => / rke2-ca(lico|nal) /.test(o));
  assert.deepEqual(charts, [], "chart versions agree");
  assert.equal(t.rke2Releases["v1.30.4+rke2r1"]?.rancher?.minChannelServerVersion, "v2.9.0-alpha1");
  assert.ok(rancherOffersRke2(t, "v2.9.1", "v1.30.4+rke2r1"));
});

test("the real RKE1 data (release-v2.9, 2024-10-21) gives the shipped images: nothing overridden", () => {
  const t = load("kdm_release-v2.9_2024-10-21_14e0dc43.data-calico-1.28plus.json");
  assert.deepEqual(
    (t.kdmOverrides ?? []).filter((o) => o.startsWith("RKE1")),
    [],
  );
  assert.equal(t.rke1Kubernetes["v1.30.3-rancher1-1"]?.calicoVersion, "v3.28.0");
  assert.equal(t.k8sVersionInfo["v1.30"]?.minRancherVersion, "2.9.0-patch0");
});

test("where the file disagrees the file wins, and says so: release-v2.8 caps 1.28 at Rancher 2.8.99", () => {
  const t = load("kdm_release-v2.8_2024-10-21_e1fadf23.channels-rke2.yaml");
  assert.ok(rancherOffersRke2(shipped, "v2.9.1", "v1.28.13+rke2r1"));
  assert.ok(!rancherOffersRke2(t, "v2.9.1", "v1.28.13+rke2r1"));
  assert.ok(
    (t.kdmOverrides ?? []).includes(
      "RKE2 v1.28.13+rke2r1: Rancher channel v2.8.3-alpha1..v2.9.99 -> v2.8.3-alpha1..v2.8.99",
    ),
  );
});

test("the generated newer file teaches RKE1 and RKE2 releases the shipped tables lack", () => {
  const t = load("kdm-generated-newer.json");
  const ask = (kind: "rke1" | "rke2", version: string, tables = t) =>
    checkVersions([{ kind, version, variant: "calico" }], advisories, tables)[0];
  assert.equal(ask("rke2", "v1.32.1+rke2r1", shipped)?.verdict, "unknown");
  assert.equal(ask("rke2", "v1.32.1+rke2r1")?.verdict, "affected");
  assert.equal(ask("rke2", "v1.32.1+rke2r1")?.fixed?.version, "v1.32.2+rke2r1");
  assert.equal(ask("rke1", "v1.32.1-rancher1-1", shipped)?.verdict, "unknown");
  assert.equal(ask("rke1", "v1.32.1-rancher1-1")?.verdict, "affected");
  assert.equal(ask("rke1", "v1.32.1-rancher1-1")?.fixed?.version, "v1.32.2-rancher1-1");
  assert.equal(t.rke1Kubernetes["v1.32.2-rancher1-1"]?.status, "fixed");
  // The file overrides a shipped entry: v1.31.1-rancher1-1 moves off the affected v3.28.0.
  assert.equal(ask("rke1", "v1.31.1-rancher1-1", shipped)?.verdict, "affected");
  assert.equal(ask("rke1", "v1.31.1-rancher1-1")?.verdict, "not-affected");
  assert.ok((t.kdmOverrides ?? []).some((o) => o.startsWith("RKE1 v1.31.1-rancher1-1: calico_node")));
});
