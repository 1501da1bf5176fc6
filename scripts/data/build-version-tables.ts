// Compiles the version tables under data/ from the shared incident data:
//   ../shared/data/calico-incident-matrix.json   (analysis output: versions x affected/fixed)
//   ../shared/data/kdm/*.data-subset.json         (KDM K8sVersionRKESystemImages, K8sVersionInfo)
//   ../shared/data/kdm/*.channels-rke2.yaml       (KDM RKE2 releases: charts, Rancher range)
//   ../shared/data/kdm/*.rke1-version-comments.json ("Enabled in Rancher …" comments)
//
// Usage: node dist/scripts/data/build-version-tables.js [--from DIR] [--out DIR]
// Output is deterministic (version-sorted keys, 2-space JSON, trailing newline) so the committed
// files can be compared with a fresh build.

import { createHash } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parse as parseYaml } from "yaml";
import {
  RKE1_IMAGE_KEYS,
  VERSION_TABLE_FILES,
  calicoVersionFromImage,
  calicoVersionFromRke2Chart,
  compareCalicoVersions,
  compareVersionNames,
  parseCalicoVersion,
  parseImageRef,
} from "../../src/versions/index.js";
import type {
  IncidentStatus,
  K8sMinorInfo,
  K8sWithCalico,
  Rke1ImageKey,
  Rke1K8sVersionEntry,
  Rke2ChartEntry,
  Rke2ReleaseEntry,
  RkeCliReleaseEntry,
} from "../../src/versions/index.js";

type Json = Record<string, unknown>;

const REPO_ROOT = fileURLToPath(new URL("../../../", import.meta.url));

/** data.json (KDM) key for each cluster.yml system_images key. */
const KDM_IMAGE_KEY: Record<Rke1ImageKey, string> = {
  calico_node: "calicoNode",
  calico_cni: "calicoCni",
  calico_controllers: "calicoControllers",
  calico_ctl: "calicoCtl",
  calico_flexvol: "calicoFlexVol",
  canal_node: "canalNode",
  canal_cni: "canalCni",
  canal_controllers: "canalControllers",
  canal_flannel: "canalFlannel",
  canal_flexvol: "canalFlexVol",
};

const MINOR_KEY = /^v\d+\.\d+$/;
const SNAPSHOT_FILE =
  /^kdm_(.+)_(\d{4}-\d{2}-\d{2})_([0-9a-f]{6,40})\.(data-subset\.json|channels-rke2\.yaml|rke1-version-comments\.json)$/;

// ---------------------------------------------------------------------------------------------
// Small readers over unknown JSON

function isObject(v: unknown): v is Json {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function obj(v: unknown, what: string): Json {
  if (!isObject(v)) throw new Error(`${what}: expected an object`);
  return v;
}

function str(v: unknown, what: string): string {
  if (typeof v !== "string") throw new Error(`${what}: expected a string`);
  return v;
}

function optStr(v: unknown): string | undefined {
  return typeof v === "string" ? v : undefined;
}

function arr(v: unknown, what: string): unknown[] {
  if (!Array.isArray(v)) throw new Error(`${what}: expected an array`);
  return v as unknown[];
}

function bool(v: unknown, what: string): boolean {
  if (typeof v !== "boolean") throw new Error(`${what}: expected a boolean`);
  return v;
}

// ---------------------------------------------------------------------------------------------
// Inputs

interface Snapshot {
  branch: string;
  date: string;
  commit: string;
  /** "release-v2.9@14e0dc43", the label the incident matrix uses. */
  label: string;
  files: Partial<Record<"subset" | "channels" | "comments", string>>;
}

interface Inputs {
  matrixPath: string;
  matrix: Json;
  /** Newest first. */
  snapshots: Snapshot[];
  readFiles: string[];
}

function branchLine(branch: string): number[] {
  const m = /v(\d+)\.(\d+)/.exec(branch);
  return m === null ? [0, 0] : [Number(m[1]), Number(m[2])];
}

/** Newest commit date first; on the same date the higher Rancher line first (dev-v2.10 > release-v2.9). */
function compareSnapshots(a: Snapshot, b: Snapshot): number {
  if (a.date !== b.date) return a.date < b.date ? 1 : -1;
  const [am = 0, an = 0] = branchLine(a.branch);
  const [bm = 0, bn = 0] = branchLine(b.branch);
  return bm - am || bn - an || (a.branch < b.branch ? -1 : a.branch > b.branch ? 1 : 0);
}

function findSnapshots(kdmDir: string): Snapshot[] {
  const byKey = new Map<string, Snapshot>();
  for (const name of readdirSync(kdmDir).sort()) {
    const m = SNAPSHOT_FILE.exec(name);
    if (m === null) continue;
    const [, branch = "", date = "", commit = "", kind = ""] = m;
    const key = `${branch}_${date}_${commit}`;
    const snap = byKey.get(key) ?? {
      branch,
      date,
      commit,
      label: `${branch}@${commit.slice(0, 8)}`,
      files: {},
    };
    const slot =
      kind === "data-subset.json" ? "subset" : kind === "channels-rke2.yaml" ? "channels" : "comments";
    snap.files[slot] = join(kdmDir, name);
    byKey.set(key, snap);
  }
  return [...byKey.values()].sort(compareSnapshots);
}

function readJson(path: string): unknown {
  return JSON.parse(readFileSync(path, "utf8"));
}

// ---------------------------------------------------------------------------------------------
// Status classification from the matrix's own calico section

interface CalicoRules {
  affected: string[];
  fixedFloors: { version: string; wholeLineAndLater: boolean }[];
}

function calicoRules(matrix: Json): CalicoRules {
  const calico = obj(matrix.calico, "matrix.calico");
  const affected = Object.keys(obj(calico.affected, "matrix.calico.affected"));
  const fixedFloors = Object.keys(obj(calico.fixed, "matrix.calico.fixed")).map((k) => ({
    version: k.replace(/\+$/, ""),
    wholeLineAndLater: k.endsWith("+"),
  }));
  return { affected, fixedFloors };
}

function deriveStatus(version: string, rules: CalicoRules): IncidentStatus | undefined {
  const v = parseCalicoVersion(version);
  if (v === undefined) return undefined;
  if (rules.affected.some((a) => parseCalicoVersion(a)?.text === v.text)) return "affected";
  for (const floor of rules.fixedFloors) {
    const f = parseCalicoVersion(floor.version);
    if (f === undefined) continue;
    const sameLine = f.major === v.major && f.minor === v.minor;
    if ((sameLine || floor.wholeLineAndLater) && compareCalicoVersions(v, f) >= 0) return "fixed";
  }
  return "not-affected";
}

function normaliseStatus(text: string, what: string): IncidentStatus {
  if (text.startsWith("not-affected")) return "not-affected";
  if (text.startsWith("affected")) return "affected";
  if (text.startsWith("fixed")) return "fixed";
  throw new Error(`${what}: unknown status "${text}"`);
}

// ---------------------------------------------------------------------------------------------
// Consistency notes: single findings, plus expected differences grouped into one line each

class Notes {
  readonly single: string[] = [];
  private readonly groups = new Map<string, string[]>();

  add(note: string): void {
    this.single.push(note);
  }

  group(title: string, item: string): void {
    const items = this.groups.get(title) ?? [];
    items.push(item);
    this.groups.set(title, items);
  }

  all(): string[] {
    const grouped = [...this.groups.entries()].map(([title, items]) => `${title}: ${items.join(", ")}`);
    return [...this.single, ...grouped];
  }
}

// ---------------------------------------------------------------------------------------------
// Output helpers

/** Rebuilds objects with version-ordered keys, recursively, so output never depends on input order. */
function sortDeep(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortDeep);
  if (!isObject(value)) return value;
  const out: Json = {};
  for (const key of Object.keys(value).sort(compareVersionNames)) {
    const v = value[key];
    if (v !== undefined) out[key] = sortDeep(v);
  }
  return out;
}

function toJsonFile(value: unknown): string {
  return `${JSON.stringify(sortDeep(value), null, 2)}\n`;
}

function uniqueSorted(values: string[]): string[] {
  return [...new Set(values)].sort(compareVersionNames);
}

// ---------------------------------------------------------------------------------------------
// RKE1 k8s versions

function rancherVersionsIn(comment: string): { enabled: string[]; outOfBand: string[] } {
  const enabled: string[] = [];
  const outOfBand: string[] = [];
  for (const m of comment.matchAll(/Enabled (in|with|out of band post)(?: Rancher)? (v\d+\.\d+\.\d+)/g)) {
    const version = m[2] ?? "";
    if (m[1] === "out of band post") outOfBand.push(version);
    else enabled.push(version);
  }
  return { enabled, outOfBand };
}

/** The newest snapshot of each branch that has a file of the given kind. */
function newestPerBranch(snapshots: Snapshot[], kind: keyof Snapshot["files"]): Snapshot[] {
  const seen = new Set<string>();
  const out: Snapshot[] = [];
  for (const s of snapshots) {
    if (s.files[kind] === undefined || seen.has(s.branch)) continue;
    seen.add(s.branch);
    out.push(s);
  }
  return out;
}

/**
 * The oldest snapshot (by commit date; on a tie the lower Rancher line) that lists an entry: when
 * the metadata first carried it, as far as these snapshots can tell.
 */
function firstSeenIn(
  snapshots: Snapshot[],
  lists: (label: string) => boolean,
): { firstSeen?: { date: string; kdmSnapshot: string } } {
  const oldest = [...snapshots].reverse().find((s) => lists(s.label));
  return oldest === undefined ? {} : { firstSeen: { date: oldest.date, kdmSnapshot: oldest.label } };
}

function buildRke1(inputs: Inputs, rules: CalicoRules, notes: Notes): Record<string, Rke1K8sVersionEntry> {
  const versions = obj(inputs.matrix.rke1K8sVersions, "matrix.rke1K8sVersions");
  const subsets = inputs.snapshots.filter((s) => s.files.subset !== undefined);
  const subsetImages = new Map<string, Json>();
  for (const s of subsets) {
    const data = obj(readJson(s.files.subset ?? ""), s.label);
    subsetImages.set(s.label, obj(data.K8sVersionRKESystemImages, `${s.label} K8sVersionRKESystemImages`));
  }
  const comments = newestPerBranch(inputs.snapshots, "comments").map((s) => ({
    label: s.label,
    map: obj(readJson(s.files.comments ?? ""), `${s.label} comments`),
  }));

  const out: Record<string, Rke1K8sVersionEntry> = {};
  for (const [k8s, raw] of Object.entries(versions)) {
    const e = obj(raw, `rke1K8sVersions.${k8s}`);
    const images = obj(e.images, `rke1K8sVersions.${k8s}.images`);
    const systemImages = {} as Record<Rke1ImageKey, string>;
    for (const key of RKE1_IMAGE_KEYS) systemImages[key] = str(images[KDM_IMAGE_KEY[key]], `${k8s} ${key}`);
    const calicoVersion = str(e.calicoVersion, `${k8s}.calicoVersion`);
    const status = normaliseStatus(str(e.status, `${k8s}.status`), k8s);
    const kdmComment = str(e.kdmComment, `${k8s}.kdmComment`);
    const kdmComments: Record<string, string> = {};
    for (const c of comments) {
      const text = optStr(c.map[k8s]);
      if (text !== undefined) kdmComments[c.label] = text;
    }
    const parsed = [kdmComment, ...Object.values(kdmComments)].map(rancherVersionsIn);
    out[k8s] = {
      calicoVersion,
      status,
      systemImages,
      kdmComment,
      kdmComments,
      enabledInRancher: uniqueSorted(parsed.flatMap((p) => p.enabled)),
      outOfBandAfterRancher: uniqueSorted(parsed.flatMap((p) => p.outOfBand)),
      seenIn: arr(e.seenIn, `${k8s}.seenIn`).map((s) => str(s, `${k8s}.seenIn[]`)),
      ...firstSeenIn(subsets, (label) => subsetImages.get(label)?.[k8s] !== undefined),
    };
    checkRke1(k8s, out[k8s], subsetImages, rules, notes);
  }
  return out;
}

function checkRke1(
  k8s: string,
  entry: Rke1K8sVersionEntry,
  /** Snapshot label to K8sVersionRKESystemImages, newest first. */
  subsetImages: Map<string, Json>,
  rules: CalicoRules,
  notes: Notes,
): void {
  const nodeImage = parseImageRef(entry.systemImages.calico_node);
  const fromImage = nodeImage === undefined ? undefined : calicoVersionFromImage(nodeImage);
  if (fromImage?.text !== entry.calicoVersion) {
    notes.add(
      `rke1-kubernetes ${k8s}: calicoVersion ${entry.calicoVersion} but calico_node is ${entry.systemImages.calico_node}`,
    );
  }
  const derived = deriveStatus(entry.calicoVersion, rules);
  if (derived !== entry.status) {
    notes.add(
      `rke1-kubernetes ${k8s}: matrix status ${entry.status}, calico ${entry.calicoVersion} implies ${derived ?? "?"}`,
    );
  }
  const newest = [...subsetImages.entries()].find(([, images]) => images[k8s] !== undefined);
  if (newest === undefined) {
    notes.group(
      "rke1-kubernetes: versions in no KDM snapshot here (transient dev-branch entries, taken from the matrix alone)",
      k8s,
    );
    return;
  }
  const [label, images] = newest;
  const kdm = obj(images[k8s], `${label} ${k8s}`);
  for (const key of RKE1_IMAGE_KEYS) {
    const kdmValue = optStr(kdm[KDM_IMAGE_KEY[key]]);
    if (kdmValue !== entry.systemImages[key]) {
      notes.add(
        `rke1-kubernetes ${k8s} ${key}: matrix ${entry.systemImages[key]}, KDM ${label} ${kdmValue ?? "(none)"}`,
      );
    }
  }
  const branchComments = new Set(Object.values(entry.kdmComments));
  if (branchComments.size > 1) {
    notes.group(
      "rke1-kubernetes: the release-v2.8 and release-v2.9 comments name different Rancher versions (one per line; all kept in enabledInRancher, kdmComment is the matrix's)",
      `${k8s} (${entry.enabledInRancher.join("/")})`,
    );
  }
}

// ---------------------------------------------------------------------------------------------
// RKE2 releases

interface ChannelRelease {
  min?: string;
  max?: string;
  charts: Record<string, string>;
}

function readChannels(path: string, label: string): Map<string, ChannelRelease> {
  const doc = obj(parseYaml(readFileSync(path, "utf8"), { merge: true, maxAliasCount: -1 }), label);
  const out = new Map<string, ChannelRelease>();
  for (const raw of arr(doc.releases, `${label} releases`)) {
    const r = obj(raw, `${label} release`);
    const charts: Record<string, string> = {};
    if (isObject(r.charts)) {
      for (const [name, c] of Object.entries(r.charts)) {
        const version = isObject(c) ? optStr(c.version) : undefined;
        if (version !== undefined) charts[name] = version;
      }
    }
    const min = optStr(r.minChannelServerVersion);
    const max = optStr(r.maxChannelServerVersion);
    out.set(str(r.version, `${label} release.version`), {
      charts,
      ...(min === undefined ? {} : { min }),
      ...(max === undefined ? {} : { max }),
    });
  }
  return out;
}

interface ChartInput {
  chart: "rke2-calico" | "rke2-canal";
  chartVersion: string;
  side: Json;
  imageTag: string | undefined;
}

function chartEntry(release: string, input: ChartInput, rules: CalicoRules, notes: Notes): Rke2ChartEntry {
  const what = `rke2-releases ${release} ${input.chart}`;
  const calicoVersion = str(input.side.calicoVersion, `${what} calicoVersion`);
  const status = normaliseStatus(str(input.side.status, `${what} status`), what);
  const decoded = calicoVersionFromRke2Chart(input.chart, input.chartVersion);
  if (decoded?.text !== calicoVersion) {
    notes.add(
      `${what}: chart ${input.chartVersion} decodes to ${decoded?.text ?? "?"}, matrix says ${calicoVersion}`,
    );
  }
  const derived = deriveStatus(calicoVersion, rules);
  if (derived !== status)
    notes.add(`${what}: matrix status ${status}, calico ${calicoVersion} implies ${derived ?? "?"}`);
  const entry: Rke2ChartEntry = {
    chartVersion: input.chartVersion,
    calicoVersion,
    status,
    xdpEnabledByChart: bool(input.side.xdpEnabledByChart, `${what} xdpEnabledByChart`),
    calicoNodeImage: "",
  };
  if (input.chart === "rke2-canal") {
    const expected = decoded === undefined ? undefined : `${decoded.text}-${decoded.build ?? ""}`;
    const tag = input.imageTag ?? expected ?? calicoVersion;
    if (expected !== undefined && tag !== expected)
      notes.add(`${what}: hardened-calico tag ${tag}, chart implies ${expected}`);
    entry.hardenedCalicoTag = tag;
    entry.calicoNodeImage = `rancher/hardened-calico:${tag}`;
  } else {
    const tag = input.imageTag ?? calicoVersion;
    if (tag !== calicoVersion)
      notes.add(`${what}: mirrored-calico-node tag ${tag}, matrix calico ${calicoVersion}`);
    entry.calicoNodeImage = `rancher/mirrored-calico-node:${tag}`;
  }
  return entry;
}

function rancherRange(
  release: string,
  tagDate: string,
  charts: Record<string, string>,
  channels: { label: string; date: string; releases: Map<string, ChannelRelease> }[],
  notes: Notes,
): Rke2ReleaseEntry["rancher"] {
  const listing = channels.find((c) => c.releases.has(release));
  const found = listing?.releases.get(release);
  if (listing === undefined || found === undefined) {
    const newestDate = channels[0]?.date ?? "";
    if (tagDate > newestDate) {
      notes.group(
        `rke2-releases: tagged after the newest KDM snapshot (${newestDate}), so no Rancher range`,
        release,
      );
    } else {
      notes.group(
        "rke2-releases: tagged before the newest KDM snapshot but listed by no channels-rke2.yaml (never offered by Rancher?)",
        release,
      );
    }
    return undefined;
  }
  for (const chart of ["rke2-calico", "rke2-canal", "rke2-calico-crd"]) {
    if (found.charts[chart] !== charts[chart]) {
      notes.add(
        `rke2-releases ${release} ${chart}: matrix ${charts[chart] ?? "-"}, KDM ${listing.label} ${found.charts[chart] ?? "-"}`,
      );
    }
  }
  const others = channels.filter((c) => c !== listing && c.releases.has(release));
  for (const other of others) {
    const o = other.releases.get(release);
    if (o !== undefined && (o.max !== found.max || o.min !== found.min)) {
      notes.group(
        "rke2-releases: older branches give a narrower Rancher range (the table keeps the newest snapshot's)",
        `${release} (${other.label}: ..${o.max ?? "?"})`,
      );
    }
  }
  if (found.min === undefined || found.max === undefined) return undefined;
  return {
    minChannelServerVersion: found.min,
    maxChannelServerVersion: found.max,
    kdmSnapshot: listing.label,
  };
}

function buildRke2(inputs: Inputs, rules: CalicoRules, notes: Notes): Record<string, Rke2ReleaseEntry> {
  const channels = inputs.snapshots
    .filter((s) => s.files.channels !== undefined)
    .map((s) => ({ label: s.label, date: s.date, releases: readChannels(s.files.channels ?? "", s.label) }));
  const out: Record<string, Rke2ReleaseEntry> = {};
  for (const raw of arr(inputs.matrix.rke2Releases, "matrix.rke2Releases")) {
    const r = obj(raw, "rke2Releases[]");
    const release = str(r.rke2, "rke2Releases[].rke2");
    const charts = obj(r.charts, `${release}.charts`) as Record<string, string>;
    const images = isObject(r.images) ? r.images : {};
    const calico = chartEntry(
      release,
      {
        chart: "rke2-calico",
        chartVersion: str(charts["rke2-calico"], `${release} rke2-calico`),
        side: obj(r.cniCalico, `${release}.cniCalico`),
        imageTag: optStr(images["calico (rancher/mirrored-calico-node)"]),
      },
      rules,
      notes,
    );
    const canal = chartEntry(
      release,
      {
        chart: "rke2-canal",
        chartVersion: str(charts["rke2-canal"], `${release} rke2-canal`),
        side: obj(r.cniCanal, `${release}.cniCanal`),
        imageTag: optStr(images["canal (rancher/hardened-calico)"]),
      },
      rules,
      notes,
    );
    const tagDate = str(r.tagDate, `${release}.tagDate`);
    const rancher = rancherRange(release, tagDate, charts, channels, notes);
    const crd = optStr(charts["rke2-calico-crd"]);
    const byLabel = new Map(channels.map((c) => [c.label, c.releases]));
    out[release] = {
      tagDate,
      ...firstSeenIn(
        inputs.snapshots.filter((s) => s.files.channels !== undefined),
        (label) => byLabel.get(label)?.has(release) === true,
      ),
      charts: { "rke2-calico": calico, "rke2-canal": canal },
      ...(crd === undefined ? {} : { calicoCrdChartVersion: crd }),
      ...(rancher === undefined ? {} : { rancher }),
    };
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// RKE CLI releases and K8sVersionInfo

function parseK8sWithCalico(item: unknown, what: string): K8sWithCalico {
  const text = str(item, what);
  const m = /^(\S+) \((v[^)]+)\)$/.exec(text);
  if (m === null) throw new Error(`${what}: cannot read "${text}"`);
  return { k8sVersion: m[1] ?? "", calicoVersion: m[2] ?? "" };
}

function buildRkeCli(
  inputs: Inputs,
  rke1: Record<string, Rke1K8sVersionEntry>,
  notes: Notes,
): Record<string, RkeCliReleaseEntry> {
  const out: Record<string, RkeCliReleaseEntry> = {};
  for (const raw of arr(inputs.matrix.rke1Releases, "matrix.rke1Releases")) {
    const r = obj(raw, "rke1Releases[]");
    const rke = str(r.rke, "rke1Releases[].rke");
    const affected = arr(r.k8sWithAffectedCalico, `${rke} affected`).map((x) => parseK8sWithCalico(x, rke));
    const fixed = arr(r.k8sWithFixedCalico, `${rke} fixed`).map((x) => parseK8sWithCalico(x, rke));
    for (const k of [...affected, ...fixed]) {
      const table = rke1[k.k8sVersion]?.calicoVersion;
      if (table !== undefined && table !== k.calicoVersion) {
        notes.add(
          `rke-cli-releases ${rke}: ${k.k8sVersion} shipped calico ${k.calicoVersion}, rke1-kubernetes (final KDM) says ${table}`,
        );
      }
    }
    out[rke] = {
      tagDate: str(r.tagDate, `${rke}.tagDate`),
      prerelease: rke.includes("-"),
      kdmBranch: str(r.kdmBranch, `${rke}.kdmBranch`),
      kdmCommitApprox: str(r.kdmCommitApprox, `${rke}.kdmCommitApprox`),
      defaultK8s: str(r.defaultK8s, `${rke}.defaultK8s`),
      k8sWithAffectedCalico: affected,
      k8sWithFixedCalico: fixed,
    };
  }
  return out;
}

const MINOR_INFO_FIELDS = [
  "minRKEVersion",
  "minRancherVersion",
  "maxRKEVersion",
  "maxRancherVersion",
  "deprecateRKEVersion",
  "deprecateRancherVersion",
] as const;

function buildK8sInfo(inputs: Inputs): Record<string, K8sMinorInfo> {
  const out: Record<string, K8sMinorInfo> = {};
  for (const s of inputs.snapshots) {
    if (s.files.subset === undefined) continue;
    const data = obj(readJson(s.files.subset), s.label);
    const info = obj(data.K8sVersionInfo, `${s.label} K8sVersionInfo`);
    for (const [key, raw] of Object.entries(info)) {
      if (!MINOR_KEY.test(key) || key in out) continue;
      const e = obj(raw, `${s.label} K8sVersionInfo.${key}`);
      const entry: K8sMinorInfo = { kdmSnapshot: s.label };
      for (const f of MINOR_INFO_FIELDS) {
        const v = optStr(e[f]);
        if (v !== undefined) entry[f] = v;
      }
      out[key] = entry;
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// SOURCES.md

function sha256(path: string): string {
  return createHash("sha256").update(readFileSync(path)).digest("hex").slice(0, 16);
}

function minorKey(v: string): string {
  return /^v?(\d+\.\d+)/.exec(v)?.[1] ?? "";
}

function byVersion(a: string, b: string): number {
  return a.localeCompare(b, "en", { numeric: true });
}

/**
 * Per minor, the fixed releases Rancher's metadata offers, in order, while each widens the Rancher
 * range (the first one, then any reaching Rancher lines the earlier ones do not): which fixed
 * release a given Rancher line can pick, and since when its metadata carries it.
 */
function rancherProvenance(
  rke1: Record<string, Rke1K8sVersionEntry>,
  rke2: Record<string, Rke2ReleaseEntry>,
  info: Record<string, K8sMinorInfo>,
): string[] {
  const rows: string[] = [];
  const keys = Object.keys(rke2).sort(byVersion);
  for (const minor of uniqueSorted(keys.map(minorKey)).sort(byVersion)) {
    let widest = "";
    for (const v of keys.filter((k) => minorKey(k) === minor)) {
      const e = rke2[v];
      const r = e?.rancher;
      if (e === undefined || r === undefined || e.charts["rke2-calico"].status !== "fixed") continue;
      if (widest !== "" && byVersion(r.maxChannelServerVersion, widest) <= 0) continue;
      widest = r.maxChannelServerVersion;
      rows.push(
        `| RKE2 ${v} | ${e.charts["rke2-calico"].calicoVersion} | ${r.minChannelServerVersion} .. ${r.maxChannelServerVersion} (${r.kdmSnapshot}) | ${e.firstSeen?.date ?? "?"} (${e.firstSeen?.kdmSnapshot ?? "?"}) |`,
      );
    }
  }
  const rke1Keys = Object.keys(rke1).sort(byVersion);
  for (const minor of uniqueSorted(rke1Keys.map(minorKey)).sort(byVersion)) {
    const v = rke1Keys.find((k) => minorKey(k) === minor && rke1[k]?.status === "fixed");
    const e = v === undefined ? undefined : rke1[v];
    if (v === undefined || e === undefined) continue;
    const gate = info[`v${minor}`];
    rows.push(
      `| RKE1 ${v} | ${e.calicoVersion} | Rancher >= ${gate?.minRancherVersion ?? "?"} (K8sVersionInfo v${minor}); "${e.kdmComment}" | ${e.firstSeen?.date ?? "?"} (${e.firstSeen?.kdmSnapshot ?? "?"}) |`,
    );
  }
  return rows;
}

function sourcesMd(inputs: Inputs, fromDir: string, notes: string[], provenance: string[]): string {
  const rel = (p: string): string => p.slice(fromDir.length).replace(/^\/+/, "");
  const inputsList = inputs.readFiles.map((p) => `- \`${rel(p)}\` (sha256 ${sha256(p)}…)`);
  const notesList = notes.length === 0 ? ["None."] : notes.map((n) => `- ${n}`);
  return [
    "# data/: generated version tables",
    "",
    "Everything in this directory is generated by `scripts/data/build-version-tables.ts`; do not edit it by hand.",
    "Regenerate with `npm run data:build` (reads `../shared/data`, or `--from DIR`). `npm run data:check`",
    "rebuilds them into a temporary directory and fails when the committed files differ.",
    "",
    "| file | what it holds | taken from |",
    "|---|---|---|",
    `| \`${VERSION_TABLE_FILES.rke1Kubernetes}\` | every RKE1 k8s version: Calico release, incident status, the ten calico_*/canal_* \`system_images\`, KDM "Enabled in Rancher" comments, where it was seen | matrix \`rke1K8sVersions\`; comments from the newest \`*.rke1-version-comments.json\` per KDM branch; images cross-checked against the newest \`*.data-subset.json\` listing the version |`,
    `| \`${VERSION_TABLE_FILES.rke2Releases}\` | every RKE2 release in the matrix: rke2-calico and rke2-canal chart, Calico release, status, whether the chart enables XDP, calico-node image (hardened-calico tag for canal), tag date, Rancher channel-server range | matrix \`rke2Releases\`; the Rancher range from the newest \`*.channels-rke2.yaml\` that lists the release (same date: the higher Rancher line wins) |`,
    `| \`${VERSION_TABLE_FILES.rkeCliReleases}\` | RKE CLI releases, RCs included: default k8s, k8s versions offered with affected/fixed Calico, the (approximate) KDM commit | matrix \`rke1Releases\` |`,
    `| \`${VERSION_TABLE_FILES.k8sVersionInfo}\` | per k8s minor: min/max RKE and Rancher versions | \`K8sVersionInfo\` minor entries from the newest \`*.data-subset.json\` that has each one |`,
    "",
    "The matrix is analysis output (see `shared/docs/incident-facts.md`); KDM files are snapshots of",
    "rancher/kontainer-driver-metadata ending 2024-10-21, so later RKE1 versions are missing and the",
    "RKE2 Rancher range is absent for releases no snapshot lists. RKE2 releases before v1.26.11 (in KDM",
    "but not in the matrix) are left out: they predate the Calico change.",
    "",
    "## Rancher availability of the fixed releases (provenance)",
    "",
    "Per minor, the first fixed release and any later one that reaches Rancher lines the earlier ones",
    "do not (rke2-calico status; RKE1: the first fixed version). `firstSeen` is the oldest snapshot",
    "here that lists it; these are the `firstSeen` fields of the tables. A Rancher whose metadata is",
    "refreshed after that date offers the release without a Rancher upgrade, within its range.",
    "",
    "| release | Calico | Rancher range (snapshot) | firstSeen date (snapshot) |",
    "|---|---|---|---|",
    ...provenance,
    "",
    "## Inputs",
    "",
    ...inputsList,
    "",
    "## Consistency notes found while building",
    "",
    ...notesList,
    "",
  ].join("\n");
}

// ---------------------------------------------------------------------------------------------
// Entry points

export interface BuildResult {
  /** File name (inside data/) to content. */
  files: Record<string, string>;
  notes: string[];
}

export function buildVersionTables(fromDir: string): BuildResult {
  const root = resolve(fromDir);
  const matrixPath = join(root, "calico-incident-matrix.json");
  const snapshots = findSnapshots(join(root, "kdm"));
  const readFiles = [matrixPath, ...snapshots.flatMap((s) => Object.values(s.files)).sort()];
  const inputs: Inputs = { matrixPath, matrix: obj(readJson(matrixPath), matrixPath), snapshots, readFiles };
  const rules = calicoRules(inputs.matrix);
  const notes = new Notes();
  const rke1 = buildRke1(inputs, rules, notes);
  const rke2 = buildRke2(inputs, rules, notes);
  const cli = buildRkeCli(inputs, rke1, notes);
  const info = buildK8sInfo(inputs);
  return {
    files: {
      [VERSION_TABLE_FILES.rke1Kubernetes]: toJsonFile(rke1),
      [VERSION_TABLE_FILES.rke2Releases]: toJsonFile(rke2),
      [VERSION_TABLE_FILES.rkeCliReleases]: toJsonFile(cli),
      [VERSION_TABLE_FILES.k8sVersionInfo]: toJsonFile(info),
      "SOURCES.md": sourcesMd(inputs, root, notes.all(), rancherProvenance(rke1, rke2, info)),
    },
    notes: notes.all(),
  };
}

function argValue(args: string[], flag: string): string | undefined {
  const i = args.indexOf(flag);
  return i >= 0 ? args[i + 1] : undefined;
}

function main(args: string[]): number {
  const fromDir = argValue(args, "--from") ?? resolve(REPO_ROOT, "../shared/data");
  const outDir = argValue(args, "--out") ?? resolve(REPO_ROOT, "data");
  const { files, notes } = buildVersionTables(fromDir);
  mkdirSync(outDir, { recursive: true });
  for (const [name, content] of Object.entries(files)) writeFileSync(join(outDir, name), content);
  console.log(`wrote ${Object.keys(files).length} files to ${outDir} (from ${resolve(fromDir)})`);
  for (const n of notes) console.log(`note: ${n}`);
  return 0;
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    process.exitCode = main(process.argv.slice(2));
  } catch (err: unknown) {
    console.error(`build-version-tables: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  }
}
