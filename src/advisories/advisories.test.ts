// Every shipped advisory goes through the real loader, and its version lists must agree with the
// version tables compiled from the KDM data — so the prose-like YAML cannot drift from the facts.

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  loadAdvisories,
  loadAdvisoryFile,
  parseAdvisory,
  SHIPPED_ADVISORIES_DIR,
  VERIFIED_CACHE_PATH,
  type VerifiedCache,
} from "./load.js";
import { defaultVersionTables } from "../versions/index.js";
import { rancherOffersRke1, rancherOffersRke2 } from "../versions/rancher.js";
import { InputError } from "../errors.js";
import { fileURLToPath } from "node:url";
import { matchVersion } from "./ranges.js";
import { compareVersionNames } from "../versions/order.js";

const advisories = await loadAdvisories();
const flagship = advisories.find((a) => a.id === "CNID-2024-0001");

describe("verified cache of the shipped advisories", () => {
  test("is built, current, and gives exactly what validating the files gives", async () => {
    const cache = JSON.parse(await readFile(VERIFIED_CACHE_PATH, "utf8")) as VerifiedCache;
    const names = Object.keys(cache.files);
    assert.ok(names.includes("CNID-2024-0001.yaml"));
    for (const name of names) {
      const text = await readFile(join(SHIPPED_ADVISORIES_DIR, name), "utf8");
      assert.equal(cache.files[name]?.text, text, `${name} changed since the build: run npm run build`);
    }
    assert.deepEqual(advisories, await loadAdvisories(SHIPPED_ADVISORIES_DIR, { verified: false }));
  });

  test("is not used for other directories: a copy with a broken file is validated", async () => {
    const dir = await mkdtemp(join(tmpdir(), "cnidoctor-adv-cache-"));
    const text = await readFile(join(SHIPPED_ADVISORIES_DIR, "CNID-2024-0001.yaml"), "utf8");
    await writeFile(join(dir, "CNID-2024-0001.yaml"), text.replace("symptom", "symptomatic"));
    await assert.rejects(loadAdvisories(dir), (e: unknown) => e instanceof InputError);
  });
});

describe("shipped advisories", () => {
  test("load through the real loader, file name equals id", () => {
    assert.ok(advisories.length >= 1);
    assert.ok(flagship);
  });
  test("CNID-2024-0001 names the upstream reports as aliases", () => {
    assert.deepEqual(flagship?.aliases, ["projectcalico/calico#8856", "rancher/rke#3648"]);
  });
  test("Calico versions: 3.26.5, 3.27.3, 3.28.0 affected; fixes 3.27.4, 3.28.1", () => {
    const calico = flagship?.affected.find((a) => a.ecosystem === "calico");
    assert.deepEqual(calico?.versions, ["v3.26.5", "v3.27.3", "v3.28.0"]);
    assert.equal(calico?.fixedIn?.["3.28"], "v3.28.1");
    assert.equal(calico?.fixedIn?.["3.27"], "v3.27.4");
  });
});

describe("CNID-2024-0001 line fingerprints", () => {
  test("the unlisted-line signature excludes exactly the int_dataplane.go lines of the affected versions", () => {
    assert.ok(flagship);
    const affected = new Set(flagship.affected.find((a) => a.ecosystem === "calico")?.versions ?? []);
    const lines = flagship.fingerprints
      .filter((f) => f.file === "int_dataplane.go" && f.versions.some((v) => affected.has(v)))
      .map((f) => f.line)
      .sort();
    const header = flagship.signatures.find((s) => s.id === "xdp-failure-unlisted-line")?.header ?? "";
    const excluded = /\(\?!\(\?:([0-9|]+)\):\)/.exec(header)?.[1]?.split("|").map(Number).sort();
    assert.deepEqual(excluded, lines);
    assert.equal(lines.length, 6, "wipe and apply lines of v3.26.5, v3.27.3 and v3.28.0");
  });
});

describe("CNID-2024-0001 agrees with the compiled version tables", () => {
  const tables = defaultVersionTables();
  const pkg = (ecosystem: string, name: string) =>
    flagship?.affected.find((a) => a.ecosystem === ecosystem && a.package === name);

  test("RKE1 Kubernetes versions with an affected Calico", () => {
    const expected = Object.entries(tables.rke1Kubernetes)
      .filter(([, e]) => e.status === "affected")
      .map(([v]) => v)
      .sort();
    assert.deepEqual(
      [...(pkg("rke1-kubernetes", "canal/calico add-on (system_images)")?.versions ?? [])].sort(),
      expected,
    );
  });
  for (const chart of ["rke2-calico", "rke2-canal"] as const) {
    test(`RKE2 releases whose ${chart} ships an affected Calico`, () => {
      const expected = Object.entries(tables.rke2Releases)
        .filter(([, r]) => r.charts[chart].status === "affected")
        .map(([v]) => v)
        .sort();
      assert.deepEqual([...(pkg("rke2", chart)?.versions ?? [])].sort(), expected);
    });
  }
  test("rke2-canal disables XDP in every affected release; rke2-calico leaves it on", () => {
    for (const v of pkg("rke2", "rke2-canal")?.versions ?? [])
      assert.equal(tables.rke2Releases[v]?.charts["rke2-canal"].xdpEnabledByChart, false, v);
    for (const v of pkg("rke2", "rke2-calico")?.versions ?? [])
      assert.equal(tables.rke2Releases[v]?.charts["rke2-calico"].xdpEnabledByChart, true, v);
  });
  test("fixed RKE1 versions are the first fixed ones of their minor", () => {
    const fixed = pkg("rke1-kubernetes", "canal/calico add-on (system_images)")?.fixedIn ?? {};
    for (const [minor, version] of Object.entries(fixed)) {
      assert.equal(tables.rke1Kubernetes[version]?.status, "fixed", version);
      const earlierFixed = Object.entries(tables.rke1Kubernetes).filter(
        ([v, e]) =>
          v.startsWith(`v${minor}.`) &&
          e.status === "fixed" &&
          v.localeCompare(version, "en", { numeric: true }) < 0,
      );
      assert.deepEqual(earlierFixed, [], `${version} is the first fixed ${minor}`);
    }
  });
});

const flannelLoop = advisories.find((a) => a.id === "CNID-2024-0002");

/** rke2-canal chart version → flannel image tag (the chart's values; see the file's header). */
async function canalFlannelTags(): Promise<Map<string, string>> {
  const text = await readFile(
    fileURLToPath(new URL("../../../src/advisories/testdata/rke2-canal-flannel.txt", import.meta.url)),
    "utf8",
  );
  const out = new Map<string, string>();
  for (const line of text.split("\n")) {
    const [chart, flannel] = line.trim().split(/\s+/);
    if (chart !== undefined && flannel !== undefined && !chart.startsWith("#")) out.set(chart, flannel);
  }
  return out;
}

describe("CNID-2024-0002 agrees with the RKE2 release table and the rke2-canal chart values", () => {
  const tables = defaultVersionTables();
  const rke2Canal = flannelLoop?.affected.find((a) => a.ecosystem === "rke2" && a.package === "rke2-canal");
  const flannel = flannelLoop?.affected.find((a) => a.ecosystem === "flannel");

  test("the RKE2 releases listed are exactly those whose rke2-canal ships flannel v0.24.3", async () => {
    const tags = await canalFlannelTags();
    const affected = Object.entries(tables.rke2Releases)
      .filter(([, r]) => tags.get(r.charts["rke2-canal"].chartVersion)?.startsWith("v0.24.3") === true)
      .map(([v]) => v)
      .sort();
    assert.deepEqual([...(rke2Canal?.versions ?? [])].sort(), affected);
    assert.equal(affected.length, 4);
  });

  test("each fixed release is the first of its minor after the affected one, and flannel there is fixed", async () => {
    assert.ok(flannel && rke2Canal);
    const tags = await canalFlannelTags();
    const flannelOf = (release: string): string =>
      tags.get(tables.rke2Releases[release]?.charts["rke2-canal"].chartVersion ?? "") ?? "";
    for (const [minor, fixed] of Object.entries(rke2Canal.fixedIn ?? {})) {
      assert.equal(matchVersion(flannel, flannelOf(fixed)).result, "out-of-range", fixed);
      const affected: string | undefined = (rke2Canal.versions ?? []).find((v) => v.startsWith(`v${minor}.`));
      assert.ok(affected, `an affected ${minor} release`);
      const between: string[] = Object.keys(tables.rke2Releases).filter(
        (v) =>
          v.startsWith(`v${minor}.`) &&
          compareVersionNames(v, affected) > 0 &&
          compareVersionNames(v, fixed) < 0,
      );
      assert.deepEqual(between, [], `${fixed} follows ${affected} directly`);
    }
    // 1.26 ended with its affected release: no fixed 1.26 exists.
    assert.equal(rke2Canal.fixedIn?.["1.26"], undefined);
    const later126 = Object.keys(tables.rke2Releases).filter(
      (v) => v.startsWith("v1.26.") && compareVersionNames(v, "v1.26.15+rke2r1") > 0,
    );
    assert.deepEqual(later126, []);
  });

  test("the Rancher range spans the channel ranges of the affected releases", () => {
    const rancher = flannelLoop?.affected.find((a) => a.ecosystem === "rancher");
    const [range] = rancher?.ranges ?? [];
    const mins = (rke2Canal?.versions ?? []).map(
      (v) => tables.rke2Releases[v]?.rancher?.minChannelServerVersion ?? "",
    );
    const maxes = (rke2Canal?.versions ?? []).map(
      (v) => tables.rke2Releases[v]?.rancher?.maxChannelServerVersion ?? "",
    );
    assert.equal(`v${range?.introduced ?? ""}`, mins.sort(compareVersionNames)[0]?.replace(/-alpha1$/, ""));
    assert.equal(maxes.sort(compareVersionNames).at(-1), "v2.9.99");
    assert.equal(range?.fixed, "2.10.0");
  });

  test("the symptom's klog lines are the v0.24.3 IPv6 loop's fingerprints, and no line is in two releases", () => {
    assert.ok(flannelLoop);
    const header = flannelLoop.signatures.find((s) => s.id === "ipv6-restore-loop")?.header ?? "";
    const lines = /\(\?:([0-9|]+)\)/.exec(header)?.[1]?.split("|").map(Number).sort();
    const v6 = flannelLoop.fingerprints
      .filter((f) => f.versions.includes("v0.24.3") && f.id.includes("-v6-"))
      .map((f) => f.line)
      .sort();
    assert.deepEqual(lines, v6);
    const byLine = new Map<number, string[]>();
    for (const f of flannelLoop.fingerprints)
      byLine.set(f.line, [...(byLine.get(f.line) ?? []), ...f.versions]);
    for (const [line, versions] of byLine) assert.equal(versions.length, 1, `iptables.go:${line}`);
  });
});

const base = await readFile(join(SHIPPED_ADVISORIES_DIR, "CNID-2024-0001.yaml"), "utf8");

describe("loader rejects bad advisories with one clear line", () => {
  const cases: [string, string, RegExp][] = [
    [
      "unknown top-level field",
      base.replace("severity: high", "severity: high\nseverityy: low"),
      /additional properties 'severityy'/,
    ],
    [
      "bad severity",
      base.replace("severity: high", "severity: urgent"),
      /\/severity must be equal to one of the allowed values/,
    ],
    [
      "regex that does not compile",
      base.replace(
        '"Error loading BTF: Invalid argument\\\\(22\\\\)"',
        '"Error loading BTF: Invalid argument(22"',
      ),
      /invalid regular expression/,
    ],
    [
      "duplicate signature id",
      base.replace("id: host-networkd-dispatcher-churn", "id: xdp-btf-load-failure"),
      /duplicate signature id 'xdp-btf-load-failure'/,
    ],
    ["not YAML at all", "id: [unclosed", /not valid YAML/],
    [
      "a report column on a condition the advisory does not have",
      base.replace("{ title: XDP, condition: xdp-enabled }", "{ title: XDP, condition: no-such-condition }"),
      /presentation\.columns\.XDP: 'no-such-condition' is not a condition of this advisory/,
    ],
    [
      "a 'seen' reason on a signature that does not decide",
      base.replace("role: context\n", "role: context\n    seen: seen {count} time(s)\n"),
      /only a symptom has a 'seen' reason/,
    ],
    [
      "an alert name that is not a Prometheus-style name",
      base.replace("name: CalicoXdpBtfRetryStorm", "name: calico xdp storm"),
      /\/presentation\/alerts\/signatureRate\/name must match pattern/,
    ],
    [
      "an affected combination without its doubt note",
      base.replace(/( {2}- id: loop-on-affected-version\n(?: {4}.*\n)*?) {4}doubt: >-\n(?: {6}.*\n)+/, "$1"),
      /combinations\.loop-on-affected-version: an 'affected' combination needs a doubt note/,
    ],
  ];
  for (const [name, text, pattern] of cases) {
    test(name, async () => {
      await assert.rejects(
        parseAdvisory("x.yaml", text),
        (e: unknown) => e instanceof InputError && pattern.test(e.message) && !e.message.includes("\n"),
      );
    });
  }
  test("a missing file names the path", async () => {
    await assert.rejects(loadAdvisoryFile("/nonexistent/a.yaml"), /\/nonexistent\/a\.yaml: no such file/);
  });
  test("file name must equal the id", async () => {
    const dir = await mkdtemp(join(tmpdir(), "cnid-adv-"));
    await writeFile(join(dir, "CNID-2099-0001.yaml"), base);
    await assert.rejects(loadAdvisories(dir), /file name must equal the advisory id 'CNID-2024-0001'/);
  });
});

// The Rancher entry follows from the tables' Rancher gates (incident facts §9): every listed
// Rancher offers an affected release with no fixed one of the same minor in its own line's
// shipped metadata, and the facts the note states are what the KDM snapshots say.
describe("CNID-2024-0001 Rancher entry agrees with the KDM-derived tables", () => {
  const tables = defaultVersionTables();
  const rancher = flagship?.affected.find((a) => a.ecosystem === "rancher");
  const offersAffectedRke2 = (r: string): boolean =>
    Object.entries(tables.rke2Releases).some(
      ([v, e]) => e.charts["rke2-calico"].status === "affected" && rancherOffersRke2(tables, r, v),
    );
  test("2.8.0-2.8.7 and 2.9.0-2.9.1 are listed and offered affected RKE2 releases", () => {
    for (const r of [0, 1, 2, 3, 4, 5, 6, 7].map((p) => `v2.8.${p}`).concat(["v2.9.0", "v2.9.1"])) {
      assert.ok(rancher?.versions?.includes(r), `${r} listed`);
      assert.ok(offersAffectedRke2(r), `${r} offers an affected RKE2 release`);
    }
    assert.ok(!rancher?.versions?.includes("v2.8.8"));
    assert.ok(!rancher?.versions?.includes("v2.9.2"));
  });
  test("2.10.0 is listed only as unverified: no affected RKE2, but dev metadata's RKE1 v1.31.1", () => {
    assert.deepEqual(rancher?.unverified, ["v2.10.0"]);
    assert.ok(!offersAffectedRke2("v2.10.0"));
    const v131 = tables.rke1Kubernetes["v1.31.1-rancher1-1"];
    assert.equal(v131?.status, "affected");
    assert.deepEqual(v131?.seenIn, ["dev-v2.10@8f9a33aa"]);
    assert.ok(rancherOffersRke1(tables, "v2.10.0", "v1.31.1-rancher1-1"));
  });
  test("fixed RKE2 releases reached the 2.9 metadata on 2024-08-29; 2.10 caps them at 2.9.99", () => {
    for (const [capped, next] of [
      ["v1.28.13+rke2r1", "v1.28.14+rke2r1"],
      ["v1.29.8+rke2r1", "v1.29.9+rke2r1"],
      ["v1.30.4+rke2r1", "v1.30.5+rke2r1"],
    ] as const) {
      assert.equal(tables.rke2Releases[capped]?.firstSeen?.date, "2024-08-29", capped);
      assert.equal(tables.rke2Releases[capped]?.rancher?.maxChannelServerVersion, "v2.9.99", capped);
      assert.ok(rancherOffersRke2(tables, "v2.9.1", capped), `a refreshed 2.9.1 offers ${capped}`);
      assert.ok(!rancherOffersRke2(tables, "v2.10.0", capped), `2.10 does not offer ${capped}`);
      assert.ok(rancherOffersRke2(tables, "v2.10.0", next), `2.10 offers ${next}`);
    }
    assert.ok(rancherOffersRke2(tables, "v2.8.5", "v1.28.13+rke2r1"));
  });
  test("RKE2 1.30 needs Rancher 2.9.0; RKE1 v1.29.8/v1.30.4 need 2.9.0 and metadata of 2024-09-17", () => {
    assert.ok(!rancherOffersRke2(tables, "v2.8.8", "v1.30.4+rke2r1"));
    for (const v of ["v1.29.8-rancher1-1", "v1.30.4-rancher1-1"]) {
      assert.ok(!rancherOffersRke1(tables, "v2.8.9", v), v);
      assert.ok(rancherOffersRke1(tables, "v2.9.0", v), v);
      assert.equal(tables.rke1Kubernetes[v]?.firstSeen?.date, "2024-09-17", v);
    }
  });
});
