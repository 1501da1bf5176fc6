// Rancher KDM metadata (kontainer-driver-metadata data.json, or an RKE2 channels file) read at run
// time to extend the shipped version tables: the air-gapped way to learn releases cnidoctor never
// shipped. Calico status of a new entry is left to the caller's classifier (the advisories' ranges).
// Where the file disagrees with the shipped tables, the file wins and the disagreement is recorded.

import { constants } from "node:fs";
import { open, stat, type FileHandle } from "node:fs/promises";
import { parse as parseYaml } from "yaml";
import { InputError } from "../errors.js";
import { InputFileError, readInputText } from "../io/open-input.js";
import { calicoVersionFromRke2Chart } from "./calico.js";
import { calicoVersionFromImage, parseImageRef } from "./image.js";
import {
  KDM_FILE_LABEL,
  type IncidentStatus,
  type K8sMinorInfo,
  type Rke1ImageKey,
  type Rke1K8sVersionEntry,
  type Rke2ChartEntry,
  type Rke2ChartName,
  type Rke2ReleaseEntry,
  type VersionTables,
} from "./tables.js";

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

/** data.json image keys (rke types json tags) → cluster.yml system_images keys. */
const IMAGE_KEYS: Record<string, Rke1ImageKey> = {
  calicoNode: "calico_node",
  calicoCni: "calico_cni",
  calicoControllers: "calico_controllers",
  calicoCtl: "calico_ctl",
  calicoFlexVol: "calico_flexvol",
  canalNode: "canal_node",
  canalCni: "canal_cni",
  canalControllers: "canal_controllers",
  canalFlannel: "canal_flannel",
  canalFlexVol: "canal_flexvol",
};

export interface KdmData {
  origin: string;
  rke1: Record<string, Record<Rke1ImageKey, string>>;
  k8sVersionInfo: Record<string, Omit<K8sMinorInfo, "kdmSnapshot">>;
  rke2: { version: string; min?: string; max?: string; charts: Partial<Record<Rke2ChartName, string>> }[];
}

/** Reads KDM text (JSON data.json, or a channels-rke2 YAML); one InputError naming `origin` otherwise. */
export function parseKdm(origin: string, text: string): KdmData {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (jsonError) {
    try {
      doc = parseYaml(text, { merge: true, maxAliasCount: -1 });
    } catch {
      throw new InputError(
        origin,
        `not JSON (${(jsonError as Error).message.split("\n")[0] ?? ""}) nor YAML`,
      );
    }
  }
  if (!isObj(doc)) throw new InputError(origin, "not a Rancher KDM data.json (expected a JSON object)");
  const rke2Root = isObj(doc.rke2) ? doc.rke2 : Array.isArray(doc.releases) ? doc : undefined;
  const images = doc.K8sVersionRKESystemImages;
  if (!isObj(images) && rke2Root === undefined)
    throw new InputError(
      origin,
      "not a Rancher KDM data.json: no K8sVersionRKESystemImages and no rke2 releases",
    );
  return {
    origin,
    rke1: parseRke1(isObj(images) ? images : {}),
    k8sVersionInfo: parseInfo(isObj(doc.K8sVersionInfo) ? doc.K8sVersionInfo : {}),
    rke2: parseRke2(rke2Root),
  };
}

function parseRke1(images: Obj): KdmData["rke1"] {
  const rke1: KdmData["rke1"] = {};
  for (const [version, entry] of Object.entries(images)) {
    if (!isObj(entry) || typeof entry.calicoNode !== "string") continue;
    const mapped: Partial<Record<Rke1ImageKey, string>> = {};
    for (const [json, key] of Object.entries(IMAGE_KEYS)) {
      const v = entry[json];
      if (typeof v === "string") mapped[key] = v;
    }
    rke1[version] = mapped as Record<Rke1ImageKey, string>;
  }
  return rke1;
}

function parseInfo(root: Obj): KdmData["k8sVersionInfo"] {
  const k8sVersionInfo: KdmData["k8sVersionInfo"] = {};
  for (const [minor, entry] of Object.entries(root)) {
    if (!isObj(entry)) continue;
    const info: Omit<K8sMinorInfo, "kdmSnapshot"> = {};
    for (const f of ["minRKEVersion", "maxRKEVersion", "minRancherVersion", "maxRancherVersion"] as const) {
      const v = entry[f];
      if (typeof v === "string") info[f] = v;
    }
    k8sVersionInfo[minor] = info;
  }
  return k8sVersionInfo;
}

function parseRke2(rke2Root: Obj | undefined): KdmData["rke2"] {
  const rke2: KdmData["rke2"] = [];
  const releases = rke2Root !== undefined && Array.isArray(rke2Root.releases) ? rke2Root.releases : [];
  for (const r of releases) {
    if (!isObj(r) || typeof r.version !== "string") continue;
    const charts: KdmData["rke2"][number]["charts"] = {};
    const c = isObj(r.charts) ? r.charts : {};
    for (const name of ["rke2-calico", "rke2-canal"] as const) {
      const chart = c[name];
      if (isObj(chart) && typeof chart.version === "string") charts[name] = chart.version;
    }
    rke2.push({
      version: r.version,
      ...(typeof r.minChannelServerVersion === "string" ? { min: r.minChannelServerVersion } : {}),
      ...(typeof r.maxChannelServerVersion === "string" ? { max: r.maxChannelServerVersion } : {}),
      charts,
    });
  }
  return rke2;
}

/** Calico status of a release the tables did not know, decided by the caller from advisory data. */
export type CalicoClassifier = (calicoVersion: string) => IncidentStatus;

function vOf(text: string | undefined): string | undefined {
  return text === undefined ? undefined : `v${text.replace(/^v/, "")}`;
}

function chartEntry(
  chart: Rke2ChartName,
  version: string,
  classify: CalicoClassifier,
): Rke2ChartEntry | undefined {
  const cv = calicoVersionFromRke2Chart(chart, version);
  if (cv === undefined) return undefined;
  const calicoVersion = `v${cv.major}.${cv.minor}.${cv.patch}`;
  return {
    chartVersion: version,
    calicoVersion,
    status: classify(calicoVersion),
    // rke2-canal sets felixXDPEnabled false in every chart version since v3.13.3; rke2-calico leaves Felix's default.
    xdpEnabledByChart: chart === "rke2-calico",
    calicoNodeImage:
      chart === "rke2-calico"
        ? `rancher/mirrored-calico-node:${calicoVersion}`
        : `rancher/hardened-calico:${calicoVersion}${cv.build !== undefined ? `-${cv.build}` : ""}`,
    ...(chart === "rke2-canal" && cv.build !== undefined
      ? { hardenedCalicoTag: `${calicoVersion}-${cv.build}` }
      : {}),
  };
}

/** The shipped tables extended (and, where they disagree, overridden) by a KDM file. */
export function extendTables(base: VersionTables, kdm: KdmData, classify: CalicoClassifier): VersionTables {
  const overrides: string[] = [];
  const snapshot = `${KDM_FILE_LABEL}${kdm.origin}`;
  return {
    ...base,
    rke1Kubernetes: extendRke1(base, kdm, classify, overrides, snapshot),
    k8sVersionInfo: extendInfo(base, kdm, overrides, snapshot),
    rke2Releases: extendRke2(base, kdm, classify, overrides, snapshot),
    kdmOrigin: kdm.origin,
    kdmOverrides: overrides,
  };
}

function extendRke1(
  base: VersionTables,
  kdm: KdmData,
  classify: CalicoClassifier,
  overrides: string[],
  snapshot: string,
): VersionTables["rke1Kubernetes"] {
  const rke1Kubernetes = { ...base.rke1Kubernetes };
  for (const [version, images] of Object.entries(kdm.rke1)) {
    const ref = parseImageRef(images.calico_node ?? "");
    const cv = ref === undefined ? undefined : calicoVersionFromImage(ref);
    if (cv === undefined) continue;
    const calicoVersion = `v${cv.major}.${cv.minor}.${cv.patch}`;
    const old = rke1Kubernetes[version];
    if (old !== undefined) {
      if (old.calicoVersion === calicoVersion && old.systemImages.calico_node === images.calico_node)
        continue;
      overrides.push(`RKE1 ${version}: calico_node ${old.systemImages.calico_node} -> ${images.calico_node}`);
    }
    const entry: Rke1K8sVersionEntry = {
      calicoVersion,
      status: classify(calicoVersion),
      systemImages: { ...(old?.systemImages ?? {}), ...images },
      kdmComment: old?.kdmComment ?? "",
      kdmComments: old?.kdmComments ?? {},
      enabledInRancher: old?.enabledInRancher ?? [],
      outOfBandAfterRancher: old?.outOfBandAfterRancher ?? [],
      seenIn: [...(old?.seenIn ?? []), snapshot],
    };
    rke1Kubernetes[version] = entry;
  }
  return rke1Kubernetes;
}

function extendInfo(
  base: VersionTables,
  kdm: KdmData,
  overrides: string[],
  snapshot: string,
): VersionTables["k8sVersionInfo"] {
  const k8sVersionInfo = { ...base.k8sVersionInfo };
  for (const [minor, info] of Object.entries(kdm.k8sVersionInfo)) {
    const old = k8sVersionInfo[minor];
    const changed =
      old === undefined ||
      (["minRancherVersion", "maxRancherVersion", "minRKEVersion", "maxRKEVersion"] as const).some(
        (f) => old[f] !== info[f],
      );
    if (!changed) continue;
    if (old !== undefined)
      overrides.push(
        `K8sVersionInfo ${minor}: Rancher ${old.minRancherVersion ?? "-"}..${old.maxRancherVersion ?? "-"} -> ${info.minRancherVersion ?? "-"}..${info.maxRancherVersion ?? "-"}`,
      );
    k8sVersionInfo[minor] = { ...info, kdmSnapshot: snapshot };
  }
  return k8sVersionInfo;
}

function rancherRange(
  r: KdmData["rke2"][number],
  old: Rke2ReleaseEntry["rancher"],
  overrides: string[],
  snapshot: string,
): Rke2ReleaseEntry["rancher"] {
  const min = vOf(r.min);
  const max = vOf(r.max);
  if (min === undefined || max === undefined) return old;
  if (old !== undefined && (old.minChannelServerVersion !== min || old.maxChannelServerVersion !== max))
    overrides.push(
      `RKE2 ${r.version}: Rancher channel ${old.minChannelServerVersion}..${old.maxChannelServerVersion} -> ${min}..${max}`,
    );
  return { minChannelServerVersion: min, maxChannelServerVersion: max, kdmSnapshot: snapshot };
}

function extendRke2(
  base: VersionTables,
  kdm: KdmData,
  classify: CalicoClassifier,
  overrides: string[],
  snapshot: string,
): VersionTables["rke2Releases"] {
  const rke2Releases = { ...base.rke2Releases };
  for (const r of kdm.rke2) {
    const old = rke2Releases[r.version];
    const charts = { ...(old?.charts ?? {}) } as Partial<Record<Rke2ChartName, Rke2ChartEntry>>;
    for (const name of ["rke2-calico", "rke2-canal"] as const) {
      const version = r.charts[name];
      if (version === undefined || charts[name]?.chartVersion === version) continue;
      const entry = chartEntry(name, version, classify);
      if (entry === undefined) continue;
      if (charts[name] !== undefined)
        overrides.push(`RKE2 ${r.version}: ${name} ${charts[name]?.chartVersion ?? ""} -> ${version}`);
      charts[name] = entry;
    }
    if (charts["rke2-calico"] === undefined || charts["rke2-canal"] === undefined) continue;
    const rancher = rancherRange(r, old?.rancher, overrides, snapshot);
    const entry: Rke2ReleaseEntry = {
      tagDate: old?.tagDate ?? "",
      charts: charts as Record<Rke2ChartName, Rke2ChartEntry>,
      ...(old?.calicoCrdChartVersion !== undefined
        ? { calicoCrdChartVersion: old.calicoCrdChartVersion }
        : {}),
      ...(rancher !== undefined ? { rancher } : {}),
    };
    rke2Releases[r.version] = entry;
  }
  return rke2Releases;
}

/**
 * Saves the fetched body. Only a regular file (or a new one) is written: opening a FIFO for
 * writing would block until somebody reads it, so it is opened non-blocking and checked.
 */
async function writeCache(path: string, text: string): Promise<void> {
  const where = `--kdm-cache ${path}`;
  const before = await stat(path).catch(() => undefined);
  if (before !== undefined && !before.isFile())
    throw new InputError(where, "is not a regular file; give a file path to save the KDM data to");
  let handle: FileHandle;
  try {
    handle = await open(
      path,
      constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NONBLOCK,
      0o644,
    );
  } catch {
    throw new InputError(where, "cannot be written");
  }
  try {
    if (!(await handle.stat()).isFile()) throw new InputError(where, "is not a regular file");
    await handle.writeFile(text);
  } catch (e) {
    if (e instanceof InputError) throw e;
    throw new InputError(where, "cannot be written");
  } finally {
    await handle.close();
  }
}

export interface KdmSourceOptions {
  timeoutMs: number;
  /** Save a fetched body here for later offline use. */
  cachePath?: string;
}

/** Reads a KDM file, or fetches a URL once with a timeout (and optionally caches it). */
export async function readKdmSource(source: string, opts: KdmSourceOptions): Promise<string> {
  if (!/^https?:\/\//i.test(source)) {
    try {
      // Regular files only: a FIFO or device is refused before it is opened (it would block).
      return await readInputText(source, "kdm");
    } catch (e) {
      if (e instanceof InputFileError) throw new InputError(`--kdm ${source}`, e.problem);
      throw new InputError(
        `--kdm ${source}`,
        (e as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : "cannot be read",
      );
    }
  }
  let text: string;
  try {
    const res = await fetch(source, { signal: AbortSignal.timeout(opts.timeoutMs) });
    if (!res.ok) throw new InputError(`--kdm ${source}`, `HTTP ${res.status}`);
    text = await res.text();
  } catch (e) {
    if (e instanceof InputError) throw e;
    const name = (e as Error).name;
    const why =
      name === "TimeoutError" || name === "AbortError"
        ? `no answer within ${opts.timeoutMs / 1000}s (--kdm-timeout)`
        : `fetch failed (${(e as Error).message})`;
    throw new InputError(`--kdm ${source}`, why);
  }
  if (opts.cachePath !== undefined) {
    await writeCache(opts.cachePath, text);
  }
  return text;
}
