// CNID-2021-0001's data against its sources: the Felix default table agrees with the default read
// from every Calico tag, and `check --upgrade-from` warns exactly for the moves that lose it.

import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { loadAdvisories } from "./load.js";
import { defaultRow } from "../analyze/felix-feature.js";
import { upgradeWarnings } from "../versions/upgrade-warnings.js";

const TAGS = fileURLToPath(
  new URL("../../../src/advisories/testdata/calico-checksum-offload-defaults.txt", import.meta.url),
);
const advisories = await loadAdvisories();
const vxlan = advisories.find((a) => a.id === "CNID-2021-0001");
assert.ok(vxlan);
const cond = vxlan.conditions.find((c) => c.kind === "felix-feature");
assert.ok(cond?.kind === "felix-feature");
const feature = cond;

test("the advisory's ChecksumOffloadBroken defaults match Felix's source at every Calico tag", () => {
  const rows = readFileSync(TAGS, "utf8")
    .split("\n")
    .filter((l) => l.trim() !== "" && !l.startsWith("#"));
  assert.ok(rows.length > 60);
  for (const line of rows) {
    const [tag, ...rest] = line.split(" ");
    const expr = rest.join(" ");
    const row = defaultRow(feature.defaults, tag ?? "");
    assert.ok(row, `${tag ?? ""}: no row`);
    const shown =
      row.value === true
        ? "true"
        : row.kernelBelow === "5.7.0"
          ? "kerV.Compare(v5Dot7Dot0) < 0"
          : row.kernelAtMost === "5.7.0"
            ? "kerV.Compare(v5Dot7Dot0) <= 0"
            : "?";
    assert.equal(shown, expr, tag);
  }
});

test("check --upgrade-from warns when an upgrade leaves the always-on default, and only then", () => {
  const warn = (from: string, to: string): string[] =>
    upgradeWarnings(advisories, from, [to]).map((w) => w.advisoryId);
  assert.deepEqual(warn("v3.28.1", "v3.29.2"), ["CNID-2021-0001"]);
  assert.deepEqual(warn("v3.27.3", "v3.28.2"), ["CNID-2021-0001"]);
  assert.deepEqual(warn("v3.27.3", "v3.28.1"), [], "still always on");
  assert.deepEqual(warn("v3.28.2", "v3.29.2"), [], "already kernel-dependent before the upgrade");
  assert.deepEqual(warn("v3.24.5", "v3.29.2"), [], "never protected on every kernel");
  const [w] = upgradeWarnings(advisories, "v3.28.1", ["v3.29.2"]);
  assert.equal(w?.when, "calico-vxlan-pool");
  assert.match(
    w?.message ?? "",
    /^Calico v3\.29\.2 leaves TX checksum offload on .* while v3\.28\.1 turned it off/,
  );
  assert.match(w?.message ?? "", /cnidoctor plan --advisory CNID-2021-0001/);
});
