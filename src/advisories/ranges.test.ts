import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { fixedVersionFor, matchVersion } from "./ranges.js";
import type { AffectedPackage } from "../model/advisory.js";

const calico: AffectedPackage = {
  ecosystem: "calico",
  package: "calico-node",
  ranges: [
    { introduced: "3.26.5", lastAffected: "3.26.5" },
    { introduced: "3.27.3", fixed: "3.27.4" },
    { introduced: "3.28.0", fixed: "3.28.1" },
  ],
  fixedIn: { "3.27": "v3.27.4", "3.28": "v3.28.1" },
};

describe("matchVersion", () => {
  const table: [string, string][] = [
    ["v3.26.4", "out-of-range"],
    ["v3.26.5", "in-range"],
    ["v3.27.0", "out-of-range"],
    ["v3.27.2", "out-of-range"],
    ["v3.27.3", "in-range"],
    ["v3.27.4", "out-of-range"],
    ["v3.28.0", "in-range"],
    ["v3.28.0-build20240625", "in-range"],
    ["3.28.1", "out-of-range"],
    ["v3.29.0", "out-of-range"],
    ["latest", "unknown"],
  ];
  for (const [v, expected] of table)
    test(`${v} -> ${expected}`, () => assert.equal(matchVersion(calico, v).result, expected));

  test("exact version lists for ecosystems without ranges", () => {
    const rke2: AffectedPackage = { ecosystem: "rke2", package: "rke2-calico", versions: ["v1.30.3+rke2r1"] };
    assert.equal(matchVersion(rke2, "v1.30.3+rke2r1").result, "in-range");
    assert.equal(matchVersion(rke2, "v1.30.4+rke2r1").result, "out-of-range");
  });
  test("fixed version of the same line", () => {
    assert.equal(fixedVersionFor(calico, "v3.28.0"), "v3.28.1");
    assert.equal(fixedVersionFor(calico, "v3.25.0"), undefined);
  });
});
