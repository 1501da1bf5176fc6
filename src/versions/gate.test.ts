import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { loadAdvisories, SHIPPED_ADVISORIES_DIR } from "../advisories/load.js";
import { checkVersions, gateExitCode, type GateContext, type GateQuery } from "./gate.js";
import type { Advisory } from "../model/advisory.js";
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

// Advisories without a Calico range answer from their own entries: an RKE2 release list per chart,
// the component's ecosystem range (read from RKE1's system images), a Rancher range.
describe("an advisory judged by its own release lists and component range", () => {
  const own = advisories.find((a) => a.id === "CNID-2024-0002");
  assert.ok(own, "CNID-2024-0002 ships");
  const rke2List = own.affected.find((p) => p.ecosystem === "rke2");
  const one = (q: GateQuery, ctx: GateContext = {}) => {
    const out = checkVersions([q], [own], tables, ctx);
    assert.equal(out.length, 1, JSON.stringify(q));
    return out[0];
  };

  test("an RKE2 release its rke2-canal list names is affected, with its line's fixed release", () => {
    const a = one({ kind: "rke2", version: "v1.28.8+rke2r1", variant: "canal" });
    assert.equal(a?.verdict, "affected");
    assert.equal(a?.fixed?.version, "v1.28.9+rke2r1");
    assert.equal(a?.noFixInLine, undefined);
    assert.equal(a?.calicoVersion, undefined, "no Calico for --upgrade-from to pick up");
    assert.equal(gateExitCode([a]), 3);
  });

  test("a listed release whose line has no fixed release says so and names the next line's", () => {
    const a = one({ kind: "rke2", version: "v1.26.15+rke2r1", variant: "canal" });
    assert.equal(a?.verdict, "affected");
    assert.equal(a?.fixed, undefined);
    assert.deepEqual(a?.noFixInLine, { line: "1.26", next: { line: "1.27", version: "v1.27.13+rke2r1" } });
    assert.match(a?.reason ?? "", /No 1\.26 release fixes it: move to 1\.27 or later/);
  });

  test("every RKE2 release of the tables: affected exactly when the list names it, per chart", () => {
    let affected = 0;
    for (const version of Object.keys(tables.rke2Releases)) {
      const canal = one({ kind: "rke2", version, variant: "canal" });
      const listed = rke2List?.versions?.includes(version) === true;
      assert.equal(canal?.verdict, listed ? "affected" : "not-affected", version);
      if (listed) affected++;
      for (const cni of ["calico", "flannel"]) {
        const other = one({ kind: "rke2", version, variant: cni });
        assert.equal(other?.verdict, "not-affected", `${version} ${cni}`);
        assert.match(
          other?.reason ?? "",
          new RegExp(`deploys rke2-${cni}; .* lists rke2-canal releases only`),
        );
      }
    }
    assert.equal(affected, rke2List?.versions?.length);
    assert.equal(one({ kind: "rke2", version: "v1.28.9+rke2r1", variant: "canal" })?.verdict, "not-affected");
  });

  test("a release in neither the tables nor the list is unknown (exit 4)", () => {
    const a = one({ kind: "rke2", version: "v1.99.1+rke2r1", variant: "canal" });
    assert.equal(a?.verdict, "unknown");
    assert.equal(gateExitCode([a]), 4);
  });

  test("a listed release the entry marks unverified is affected and unverified", () => {
    const marked: Advisory = {
      ...own,
      affected: own.affected.map((p) =>
        p.ecosystem === "rke2" ? { ...p, unverified: ["v1.29.3+rke2r1"] } : p,
      ),
    };
    const [a] = checkVersions([{ kind: "rke2", version: "v1.29.3+rke2r1" }], [marked], tables);
    assert.equal(a?.verdict, "affected");
    assert.equal(a?.unverified, true);
    const [b] = checkVersions([{ kind: "rke2", version: "v1.28.8+rke2r1" }], [marked], tables);
    assert.equal(b?.unverified, undefined);
  });

  test("--flannel: v0.24.3 affected with v0.24.4 fixed; v0.24.4 and older releases not affected", () => {
    const a = one({ kind: "flannel", version: "v0.24.3" });
    assert.equal(a?.verdict, "affected");
    assert.equal(a?.fixed?.version, "v0.24.4");
    assert.equal(one({ kind: "flannel", version: "v0.24.4" })?.verdict, "not-affected");
    assert.equal(one({ kind: "flannel", version: "v0.24.2" })?.verdict, "not-affected");
    assert.equal(one({ kind: "flannel", version: "latest" })?.verdict, "unknown");
  });

  test("a Calico release gets no answer from it, nor a flannel release from a Calico-range advisory", () => {
    assert.deepEqual(checkVersions([{ kind: "calico", version: "v3.28.0" }], [own], tables), []);
    const calicoOnes = advisories.filter((a) => a.affected.some((p) => p.ecosystem === "calico"));
    assert.ok(calicoOnes.length > 0);
    assert.deepEqual(checkVersions([{ kind: "flannel", version: "v0.24.3" }], calicoOnes, tables), []);
  });

  test("every RKE1 version is judged by its canal_flannel image, and none is affected", () => {
    for (const [version, entry] of Object.entries(tables.rke1Kubernetes)) {
      const a = one({ kind: "rke1", version, variant: "canal" });
      assert.equal(a?.verdict, "not-affected", version);
      assert.equal(a?.component?.imageKey, "canal_flannel", version);
      assert.equal(a?.component?.image, entry.systemImages.canal_flannel, version);
      assert.ok(a?.reason.includes(entry.systemImages.canal_flannel), version);
    }
    const a = one({ kind: "rke1", version: "v1.28.8-rancher1-1", variant: "canal" });
    assert.equal(a?.component?.version, "v0.24.2");
    const calico = one({ kind: "rke1", version: "v1.28.8-rancher1-1", variant: "calico" });
    assert.equal(calico?.verdict, "not-affected");
    assert.equal(calico?.component, undefined);
    assert.equal(one({ kind: "rke1", version: "v1.99.0-rancher1-1" })?.verdict, "unknown");
  });

  test("an RKE1 image in the range is affected; with no fixed version in its line, the next line's", () => {
    const wider: Advisory = {
      ...own,
      affected: own.affected.map((p) =>
        p.ecosystem === "flannel" ? { ...p, ranges: [{ introduced: "0.24.2", fixed: "0.25.0" }] } : p,
      ),
    };
    const [a] = checkVersions([{ kind: "rke1", version: "v1.28.8-rancher1-1" }], [wider], tables);
    assert.equal(a?.verdict, "affected");
    assert.equal(a?.fixed, undefined);
    assert.equal(a?.noFixInLine?.line, "1.28");
    assert.equal(a?.noFixInLine?.next?.line, "1.29");
    const older: Advisory = {
      ...own,
      affected: own.affected.map((p) =>
        p.ecosystem === "flannel" ? { ...p, ranges: [{ introduced: "0.24.2", fixed: "0.24.3" }] } : p,
      ),
    };
    // v1.28.7 and later 1.28 versions all carry v0.24.2: an older line's version has a same-line fix.
    const [b] = checkVersions([{ kind: "rke1", version: "v1.27.16-rancher1-1" }], [older], tables);
    assert.equal(b?.verdict, "not-affected");
    assert.equal(b?.component?.version, "v0.21.4");
  });

  test("Rancher: its range lists the version; offers are split by the RKE2 list and the RKE1 image", () => {
    const a = one({ kind: "rancher", version: "v2.8.5" });
    assert.equal(a?.verdict, "affected");
    const rke2 = a?.offered?.find((o) => o.distribution === "rke2");
    const rke1 = a?.offered?.find((o) => o.distribution === "rke1");
    assert.ok(rke2?.affected.includes("v1.28.8+rke2r1"));
    assert.ok(rke2?.affected.includes("v1.26.15+rke2r1"));
    assert.ok(rke2?.fixed.includes("v1.28.9+rke2r1"));
    assert.ok(!(rke2?.fixed ?? []).includes("v1.26.14+rke2r1"), "an earlier release predates it");
    assert.deepEqual(rke1?.affected, []);
    assert.match(a?.reason ?? "", /RKE1 versions \(canal_flannel image\), .* RKE2 releases \(rke2-canal\)/);
    const b = one({ kind: "rancher", version: "v2.10.0" });
    assert.equal(b?.verdict, "not-affected");
    assert.deepEqual(b?.offered?.find((o) => o.distribution === "rke2")?.affected, []);
  });

  test("an advisory whose RKE2 entry is a range without a list gets no RKE2 answer", () => {
    const ranged = advisories.filter(
      (a) =>
        !a.affected.some((p) => p.ecosystem === "calico") &&
        a.affected.some((p) => p.ecosystem === "rke2" && p.versions === undefined),
    );
    assert.ok(ranged.length > 0);
    assert.deepEqual(checkVersions([{ kind: "rke2", version: "v1.28.8+rke2r1" }], ranged, tables), []);
  });

  test("a Calico-range advisory answers cni flannel as not affected (no Calico in that chart)", () => {
    const calicoOnes = advisories.filter((a) => a.affected.some((p) => p.ecosystem === "calico"));
    const out = checkVersions(
      [{ kind: "rke2", version: "v1.30.2+rke2r1", variant: "flannel" }],
      calicoOnes,
      tables,
    );
    assert.equal(out.length, calicoOnes.length);
    for (const a of out) assert.equal(a.verdict, "not-affected");
  });
});
