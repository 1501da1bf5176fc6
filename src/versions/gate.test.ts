import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { loadAdvisories, SHIPPED_ADVISORIES_DIR } from "../advisories/load.js";
import { checkVersions, gateExitCode } from "./gate.js";
import { defaultVersionTables, rke1FixedVersionFor, rke2FixedReleaseFor } from "./tables.js";
import { extendTables, parseKdm } from "./kdm.js";
import { advisoryClassifier } from "./gate.js";
import { rancherOffersRke2 } from "./rancher.js";

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

// The table test, generated from the version tables: every affected and fixed version of every
// ecosystem, with the smallest fixed alternative the tables' own look-ups give.
describe("check answers every version of every ecosystem as the tables say", () => {
  const calicoAffected = new Set(
    advisories.flatMap((a) => a.affected.find((p) => p.ecosystem === "calico")?.versions ?? []),
  );
  const calicoVersions = new Set<string>([
    ...Object.values(tables.rke1Kubernetes).map((e) => e.calicoVersion),
    ...Object.values(tables.rke2Releases).flatMap((e) => [
      e.charts["rke2-calico"].calicoVersion,
      e.charts["rke2-canal"].calicoVersion,
    ]),
  ]);
  test(`Calico: ${calicoVersions.size} releases named by the tables`, () => {
    for (const v of calicoVersions) {
      const [a] = checkVersions([{ kind: "calico", version: v }], advisories, tables);
      assert.equal(a?.verdict, calicoAffected.has(v) ? "affected" : "not-affected", v);
    }
  });

  test("RKE1: every affected version offers the tables' first fixed version of its minor", () => {
    for (const [version, entry] of Object.entries(tables.rke1Kubernetes)) {
      for (const plugin of ["calico", "canal"]) {
        const [a] = checkVersions([{ kind: "rke1", version, variant: plugin }], advisories, tables);
        assert.equal(a?.verdict, entry.status === "affected" ? "affected" : "not-affected", version);
        if (entry.status === "affected")
          assert.equal(a?.fixed?.version, rke1FixedVersionFor(version, tables)?.k8sVersion, version);
      }
    }
  });

  test("RKE2: every affected rke2-calico release offers the tables' first fixed release", () => {
    for (const [version, entry] of Object.entries(tables.rke2Releases)) {
      if (entry.charts["rke2-calico"].status !== "affected") continue;
      const [a] = checkVersions([{ kind: "rke2", version, variant: "calico" }], advisories, tables);
      assert.equal(
        a?.fixed?.version,
        rke2FixedReleaseFor(version, "rke2-calico", tables)?.rke2Version,
        version,
      );
    }
  });

  test("RKE CLI: every release answers by the status of its default Kubernetes version", () => {
    for (const [release, entry] of Object.entries(tables.rkeCliReleases)) {
      const [a] = checkVersions([{ kind: "rke-cli", version: release }], advisories, tables);
      const status = tables.rke1Kubernetes[entry.defaultK8s]?.status;
      const want = status === undefined ? "unknown" : status === "affected" ? "affected" : "not-affected";
      assert.equal(a?.verdict, want, `${release} (default ${entry.defaultK8s})`);
      const offered = a?.offered?.[0];
      for (const k of entry.k8sWithAffectedCalico)
        if (tables.rke1Kubernetes[k.k8sVersion]?.status === "affected")
          assert.ok(offered?.affected.includes(k.k8sVersion), `${release} offers ${k.k8sVersion}`);
    }
  });

  test("Rancher: every version the tables name answers as the advisory's Rancher entry lists it", () => {
    const rancher = advisories
      .find((a) => a.id === "CNID-2024-0001")
      ?.affected.find((p) => p.ecosystem === "rancher");
    const named = new Set<string>([
      ...Object.values(tables.rke1Kubernetes).flatMap((e) => [
        ...e.enabledInRancher,
        ...e.outOfBandAfterRancher,
      ]),
      ...Object.values(tables.rke2Releases).flatMap((e) =>
        e.rancher === undefined ? [] : [e.rancher.minChannelServerVersion.replace(/-.*$/, "")],
      ),
    ]);
    assert.ok(named.size > 5);
    for (const v of named) {
      const [a] = checkVersions([{ kind: "rancher", version: v }], advisories, tables);
      const listed = rancher?.versions?.includes(v) === true;
      assert.equal(a?.verdict, listed ? "affected" : "not-affected", v);
      if (listed)
        assert.ok(
          (a?.offered ?? []).some((o) => o.affected.length > 0),
          `${v} is listed, so it offers an affected version`,
        );
    }
  });
});

describe("what a Rancher version offers", () => {
  const r = (version: string) => checkVersions([{ kind: "rancher", version }], advisories, tables)[0];
  const offered = (version: string, d: "rke1" | "rke2") =>
    r(version)?.offered?.find((o) => o.distribution === d);

  test("Rancher 2.10 offers no affected RKE2 release, and lists the fixed ones it does offer", () => {
    const rke2 = offered("v2.10.0", "rke2");
    assert.deepEqual(rke2?.affected, []);
    assert.deepEqual(rke2?.fixed, ["v1.28.14+rke2r1", "v1.29.9+rke2r1", "v1.30.5+rke2r1", "v1.31.1+rke2r1"]);
    // 2.9 still offers the first fixed releases, capped at 2.9.99.
    assert.ok(offered("v2.9.1", "rke2")?.fixed.includes("v1.30.4+rke2r1"));
  });

  test("RKE1 versions only a development branch carried are offered by no Rancher", () => {
    for (const v of ["v2.9.0", "v2.9.1", "v2.9.3", "v2.10.0"]) {
      const rke1 = offered(v, "rke1");
      for (const dev of ["v1.29.3-rancher1-1", "v1.29.5-rancher1-1", "v1.30.1-rancher1-1"])
        assert.ok(!(rke1?.affected ?? []).includes(dev), `${v} does not offer ${dev}`);
      assert.ok(rke1?.affected.includes("v1.30.3-rancher1-1"), `${v} still offers v1.30.3-rancher1-1`);
    }
  });

  // Generated: for every Rancher version the tables name, the fixed RKE2 releases it offers are
  // exactly the rke2-calico "fixed" releases whose channel range holds it.
  test("every Rancher version: offered fixed RKE2 releases follow the channel ranges of the table", () => {
    const named = new Set(
      Object.values(tables.rke2Releases).flatMap((e) =>
        e.rancher === undefined
          ? []
          : [e.rancher.minChannelServerVersion.replace(/-.*$/, ""), e.rancher.maxChannelServerVersion],
      ),
    );
    for (const v of named) {
      const want = Object.entries(tables.rke2Releases)
        .filter(
          ([release, e]) =>
            e.charts["rke2-calico"].status === "fixed" && rancherOffersRke2(tables, v, release),
        )
        .map(([release]) => release)
        .sort();
      assert.deepEqual([...(offered(v, "rke2")?.fixed ?? [])].sort(), want, v);
    }
  });
});

test("an RKE1 answer narrowed by the RKE CLI says which fixed version exists and what it needs", () => {
  const [a] = checkVersions(
    [{ kind: "rke1", version: "v1.29.6-rancher1-1", variant: "calico" }],
    advisories,
    tables,
    { rkeCli: "v1.6.1" },
  );
  assert.equal(a?.fixed, undefined);
  assert.match(a?.reason ?? "", /RKE CLI v1\.6\.1 offers no later 1\.29 version with a fixed Calico/);
  assert.match(
    a?.reason ?? "",
    /v1\.29\.8-rancher1-1 \(Calico v3\.27\.4\) has one and needs RKE CLI v1\.6\.2/,
  );
});

test("an RKE2 answer without --rancher says how the fixed release differs by Rancher version", () => {
  const q = [{ kind: "rke2" as const, version: "v1.30.2+rke2r1", variant: "calico" }];
  const [a] = checkVersions(q, advisories, tables);
  assert.equal(a?.fixed?.version, "v1.30.4+rke2r1");
  assert.match(a?.reason ?? "", /v1\.30\.4\+rke2r1 for Rancher v2\.9\.0-alpha1\.\.v2\.9\.99/);
  assert.match(a?.reason ?? "", /v1\.30\.5\+rke2r1 for Rancher v2\.9\.0-alpha1\.\.v2\.10\.99/);
  const [b] = checkVersions(q, advisories, tables, { rancher: "v2.10.0" });
  assert.doesNotMatch(b?.reason ?? "", /depends on its version/);
});

test("the advisory-derived classifier gives every table entry the status the tables carry", () => {
  const classify = advisoryClassifier(advisories);
  for (const [v, e] of Object.entries(tables.rke1Kubernetes))
    assert.equal(classify(e.calicoVersion), e.status, `RKE1 ${v} (Calico ${e.calicoVersion})`);
  for (const [v, e] of Object.entries(tables.rke2Releases))
    for (const c of Object.values(e.charts))
      assert.equal(classify(c.calicoVersion), c.status, `RKE2 ${v} ${c.chartVersion}`);
  assert.equal(classify("v3.27.0"), "not-affected");
  assert.equal(classify("v3.27.4"), "fixed");
  assert.equal(classify("v3.29.0"), "fixed");
  assert.equal(classify("v3.26.5"), "affected");
});

test("an RKE1 answer with neither --rancher nor --rke-cli says what offers the fixed version", () => {
  const [a] = checkVersions([{ kind: "rke1", version: "v1.30.3-rancher1-1" }], advisories, tables);
  assert.equal(a?.fixed?.version, "v1.30.4-rancher1-1");
  assert.match(
    a?.fixed?.offeredBy ?? "",
    /RKE CLI v1\.6\.2 or later; Rancher 2\.9\.0 or later with metadata refreshed after 2024-09-17/,
  );
});

test("RKE1 v1.31.1-rancher1-1 (dev-v2.10 metadata only) is affected but marked unverified", () => {
  const [a] = checkVersions([{ kind: "rke1", version: "v1.31.1-rancher1-1" }], advisories, tables);
  assert.equal(a?.verdict, "affected");
  assert.equal(a?.unverified, true);
  const [b] = checkVersions([{ kind: "rke1", version: "v1.30.3-rancher1-1" }], advisories, tables);
  assert.equal(b?.unverified, undefined);
});
