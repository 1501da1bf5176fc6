import { test } from "node:test";
import assert from "node:assert/strict";
import {
  calicoVersionFromRke2Chart,
  compareCalicoVersions,
  compareVersionNames,
  minorOf,
  parseCalicoVersion,
} from "./index.js";
import type { CalicoVersion } from "../model/index.js";

const parseCases: [string, Partial<CalicoVersion> | undefined][] = [
  ["v3.28.0", { major: 3, minor: 28, patch: 0, text: "v3.28.0" }],
  ["3.28.0", { major: 3, minor: 28, patch: 0, text: "v3.28.0" }],
  ["v3.28.0-build20240625", { text: "v3.28.0", build: "build20240625" }],
  ["v3.28.0-rancher1", { text: "v3.28.0", build: "rancher1" }],
  [" v3.27.3 ", { text: "v3.27.3" }],
  ["v3.29.0-0.dev-123-gabcdef", { text: "v3.29.0", build: "0.dev-123-gabcdef" }],
  ["latest", undefined],
  ["master", undefined],
  ["v3.28", undefined],
  ["v3.28.0.1", undefined],
  ["v3.28.0-", undefined],
  ["v03.28.0", undefined],
  ["V3.28.0", undefined],
  ["", undefined],
  ["v3.28.0+meta", undefined],
];

for (const [text, expected] of parseCases) {
  void test(`parseCalicoVersion(${JSON.stringify(text)})`, () => {
    const v = parseCalicoVersion(text);
    if (expected === undefined) {
      assert.equal(v, undefined);
      return;
    }
    assert.ok(v);
    for (const [k, val] of Object.entries(expected)) assert.equal(v[k as keyof CalicoVersion], val, k);
    if (expected.build === undefined) assert.equal(v.build, undefined);
  });
}

void test("compareCalicoVersions orders by major/minor/patch and ignores the build", () => {
  const v = (s: string): CalicoVersion => {
    const p = parseCalicoVersion(s);
    assert.ok(p);
    return p;
  };
  const sorted = ["v3.28.1", "v3.9.0", "v3.27.4", "v3.28.0", "v3.26.5", "v3.27.10"]
    .map(v)
    .sort(compareCalicoVersions)
    .map((x) => x.text);
  assert.deepEqual(sorted, ["v3.9.0", "v3.26.5", "v3.27.4", "v3.27.10", "v3.28.0", "v3.28.1"]);
  assert.equal(compareCalicoVersions(v("v3.28.0-rancher1"), v("v3.28.0")), 0);
  assert.ok(compareCalicoVersions(v("v3.28.0"), v("v3.28.1")) < 0);
  assert.ok(compareCalicoVersions(v("v4.0.0"), v("v3.99.99")) > 0);
});

const chartCases: ["rke2-calico" | "rke2-canal", string, string | undefined, string | undefined][] = [
  ["rke2-calico", "v3.27.300", "v3.27.3", undefined],
  ["rke2-calico", "v3.28.100", "v3.28.1", undefined],
  ["rke2-calico", "v3.30.001", "v3.30.0", undefined],
  ["rke2-calico", "v3.29.101", "v3.29.1", undefined],
  ["rke2-calico", "v3.27.002", "v3.27.0", undefined],
  ["rke2-calico", "v3.19.2-203", "v3.19.2", undefined],
  ["rke2-calico", "3.26.300", "v3.26.3", undefined],
  ["rke2-calico", "v3.28.0-build2024062503", undefined, undefined],
  ["rke2-calico", "garbage", undefined, undefined],
  ["rke2-canal", "v3.28.0-build2024062503", "v3.28.0", "build20240625"],
  ["rke2-canal", "v3.28.1-build2024080600", "v3.28.1", "build20240806"],
  ["rke2-canal", "v3.27.3-build2024042301", "v3.27.3", "build20240423"],
  ["rke2-canal", "v3.13.300-build2021022306", "v3.13.3", "build20210223"],
  ["rke2-canal", "v3.27.300", undefined, undefined],
  ["rke2-canal", "", undefined, undefined],
];

for (const [chart, version, text, build] of chartCases) {
  void test(`calicoVersionFromRke2Chart(${chart}, ${JSON.stringify(version)})`, () => {
    const v = calicoVersionFromRke2Chart(chart, version);
    assert.equal(v?.text, text);
    assert.equal(v?.build, build);
  });
}

void test("compareVersionNames orders RKE1, RKE2, RKE CLI and Rancher names", () => {
  const sort = (xs: string[]): string[] => [...xs].sort(compareVersionNames);
  assert.deepEqual(
    sort(["v1.30.10-rancher1-1", "v1.30.4-rancher1-1", "v1.29.9-rancher1-1", "v1.27.8-rancher2-1"]),
    ["v1.27.8-rancher2-1", "v1.29.9-rancher1-1", "v1.30.4-rancher1-1", "v1.30.10-rancher1-1"],
  );
  assert.deepEqual(sort(["v1.27.16+rke2r2", "v1.27.16+rke2r1", "v1.27.9+rke2r1", "v1.27.16"]), [
    "v1.27.9+rke2r1",
    "v1.27.16",
    "v1.27.16+rke2r1",
    "v1.27.16+rke2r2",
  ]);
  assert.deepEqual(sort(["v1.6.2", "v1.6.2-rc.2", "v1.6.2-rc1", "v1.6.0-rc10", "v1.6.0-rc9", "v1.5.14"]), [
    "v1.5.14",
    "v1.6.0-rc9",
    "v1.6.0-rc10",
    "v1.6.2-rc1",
    "v1.6.2-rc.2",
    "v1.6.2",
  ]);
  assert.deepEqual(sort(["v1.10", "v1.9", "v2.10.0", "v2.9.3", "zeta", "alpha"]), [
    "v1.9",
    "v1.10",
    "v2.9.3",
    "v2.10.0",
    "alpha",
    "zeta",
  ]);
});

void test("minorOf", () => {
  assert.equal(minorOf("v1.30.4-rancher1-1"), "1.30");
  assert.equal(minorOf("v1.30.4+rke2r1"), "1.30");
  assert.equal(minorOf("1.31.0"), "1.31");
  assert.equal(minorOf("v1.30"), "1.30");
  assert.equal(minorOf("banana"), undefined);
});
