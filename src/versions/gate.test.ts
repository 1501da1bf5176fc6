import { test } from "node:test";
import assert from "node:assert/strict";
import { loadAdvisories, SHIPPED_ADVISORIES_DIR } from "../advisories/load.js";
import { checkVersions, gateExitCode } from "./gate.js";
import { defaultVersionTables } from "./tables.js";
import { extendTables, parseKdm } from "./kdm.js";
import { advisoryClassifier } from "./gate.js";

const advisories = await loadAdvisories(SHIPPED_ADVISORIES_DIR);
const tables = defaultVersionTables();

// Generated from the version tables: every RKE1 version and RKE2 release answers as its table status.
test("check answers every RKE1 version as the tables classify it", () => {
  for (const [version, entry] of Object.entries(tables.rke1Kubernetes)) {
    const [a] = checkVersions([{ kind: "rke1", version, variant: "calico" }], advisories, tables);
    const want = entry.status === "affected" ? "affected" : "not-affected";
    assert.equal(a?.verdict, want, version);
  }
});

test("check answers every RKE2 release per chart; rke2-canal affected is conditional", () => {
  for (const [version, entry] of Object.entries(tables.rke2Releases)) {
    for (const [cni, chart] of [
      ["calico", "rke2-calico"],
      ["canal", "rke2-canal"],
    ] as const) {
      const [a] = checkVersions([{ kind: "rke2", version, variant: cni }], advisories, tables);
      const status = entry.charts[chart].status;
      const want = status !== "affected" ? "not-affected" : cni === "canal" ? "conditional" : "affected";
      assert.equal(a?.verdict, want, `${version} ${chart}`);
    }
  }
});

test("the smallest fixed RKE2 release depends on the Rancher version", () => {
  const q = [{ kind: "rke2" as const, version: "v1.30.2+rke2r1", variant: "calico" }];
  const r29 = checkVersions(q, advisories, tables, { rancher: "v2.9.1" });
  const r210 = checkVersions(q, advisories, tables, { rancher: "v2.10.0" });
  assert.equal(r29[0]?.fixed?.version, "v1.30.4+rke2r1");
  assert.equal(r210[0]?.fixed?.version, "v1.30.5+rke2r1");
  assert.equal(gateExitCode(r29), 3);
});

test("a KDM file teaches a release the tables never shipped, judged by the advisory ranges", () => {
  const kdm = parseKdm(
    "test",
    JSON.stringify({
      rke2: {
        releases: [
          {
            version: "v1.30.99+rke2r1",
            minChannelServerVersion: "v2.9.0-alpha1",
            maxChannelServerVersion: "v2.10.99",
            charts: {
              "rke2-calico": { version: "v3.28.000" },
              "rke2-canal": { version: "v3.28.1-build2024080100" },
            },
          },
        ],
      },
    }),
  );
  const before = checkVersions(
    [{ kind: "rke2", version: "v1.30.99+rke2r1", variant: "calico" }],
    advisories,
    tables,
  );
  assert.equal(before[0]?.verdict, "unknown");
  const extended = extendTables(tables, kdm, advisoryClassifier(advisories));
  const after = checkVersions(
    [{ kind: "rke2", version: "v1.30.99+rke2r1", variant: "calico" }],
    advisories,
    extended,
  );
  assert.equal(after[0]?.verdict, "affected");
  assert.equal(extended.kdmOrigin, "test");
});

test("an unrelated file is rejected with one line", () => {
  assert.throws(() => parseKdm("x.json", '{"hello": 1}'), /x\.json: not a Rancher KDM/);
  assert.throws(() => parseKdm("y.json", "{{{"), /y\.json: not JSON/);
});

test("Rancher 2.8.x is affected (RKE2), 2.10.0 only as unverified, 2.9.2 not listed", () => {
  const r = (version: string) => checkVersions([{ kind: "rancher", version }], advisories, tables)[0];
  assert.equal(r("v2.8.5")?.verdict, "affected");
  assert.ok((r("v2.8.5")?.offered?.find((o) => o.distribution === "rke2")?.affected.length ?? 0) > 0);
  assert.equal(r("v2.10.0")?.verdict, "affected");
  assert.equal(r("v2.10.0")?.unverified, true);
  assert.equal(r("v2.9.1")?.unverified, undefined);
  assert.equal(r("v2.9.2")?.verdict, "not-affected");
});
