// The version gate for advisories not judged by a Calico range: each answer comes from what the
// advisory's own `affected` entries give. An RKE2 entry that lists its releases (package = the
// chart) answers for RKE2; the component's ecosystem range (component.ecosystem) answers for a
// release of that component and, through the image RKE1's tables carry for it, for RKE1; a Rancher
// entry answers for Rancher, with the offered releases classified by those same lists and ranges.

import type { Advisory, AffectedPackage, ComponentEcosystem } from "../model/advisory.js";
import type { CalicoPlugin, CniPlugin } from "../model/snapshot.js";
import { matchVersion, parseTriple } from "../advisories/ranges.js";
import { parseCalicoVersion } from "./calico.js";
import { componentEcosystem, componentVersionFromImage, ecosystemWords } from "./component.js";
import { parseImageRef } from "./image.js";
import { compareVersionNames, minorOf } from "./order.js";
import { rancherOffersRke1, rancherOffersRke2 } from "./rancher.js";
import { rke1ComponentImageKey } from "./rke1-component-images.js";
import type { IncidentStatus, Rke1ImageKey, Rke2ChartName, VersionTables } from "./tables.js";
import {
  answer,
  sourceOf,
  type GateAlternative,
  type GateAnswer,
  type GateComponent,
  type GateContext,
  type GateNoFixInLine,
  type GateQuery,
  type GateVerdict,
} from "./gate-answer.js";
import { rancherAnswer, type OfferedSplit } from "./gate-rancher.js";

const bare = (v: string): string => v.trim().replace(/^v/, "");
const names = (list: readonly string[] | undefined, version: string): boolean =>
  (list ?? []).some((x) => bare(x) === bare(version));

/** The advisory's RKE2 entries that list their releases (a range alone cannot tell listed from not). */
function listedRke2Entries(advisory: Advisory): AffectedPackage[] {
  return advisory.affected.filter((p) => p.ecosystem === "rke2" && (p.versions ?? []).length > 0);
}

/** The range of the advisory's component ecosystem, when that is not Calico. */
function componentPackage(
  advisory: Advisory,
): { ecosystem: ComponentEcosystem; pkg: AffectedPackage } | undefined {
  const ecosystem = componentEcosystem(advisory.component);
  if (ecosystem === "calico") return undefined;
  const pkg = advisory.affected.find((p) => p.ecosystem === ecosystem);
  return pkg === undefined ? undefined : { ecosystem, pkg };
}

/** The first fixed release the entry names for a line after `line`, for a line it names none for. */
function noFixInLine(pkg: AffectedPackage, line: string): GateNoFixInLine {
  const next = Object.keys(pkg.fixedIn ?? {})
    .filter((l) => compareVersionNames(l, line) > 0)
    .sort(compareVersionNames)[0];
  const version = next === undefined ? undefined : pkg.fixedIn?.[next];
  return { line, ...(next !== undefined && version !== undefined ? { next: { line: next, version } } : {}) };
}

function noFixText(noFix: GateNoFixInLine, what: string): string {
  const move =
    noFix.next !== undefined ? `: move to ${noFix.next.line} or later (${noFix.next.version})` : "";
  return ` No ${noFix.line} ${what} fixes it${move}.`;
}

function isComponentKind(kind: GateQuery["kind"]): kind is ComponentEcosystem {
  return kind === "calico" || kind === "flannel";
}

/**
 * A component release (--flannel) judged by the advisory's range for that ecosystem, like a Calico
 * release by its Calico range; undefined when the advisory has no range for it.
 */
export function checkComponentRelease(q: GateQuery, advisory: Advisory): GateAnswer | undefined {
  const ecosystem = q.kind;
  if (!isComponentKind(ecosystem)) return undefined;
  const pkg = advisory.affected.find((p) => p.ecosystem === ecosystem);
  if (pkg === undefined) return undefined;
  const product = ecosystemWords(ecosystem).product;
  const parsed = parseCalicoVersion(q.version);
  if (parsed === undefined)
    return answer(q, advisory, {
      verdict: "unknown",
      reason: `'${q.version}' is not a ${product} release (expected vMAJOR.MINOR.PATCH)`,
      sources: [],
    });
  const m = matchVersion(pkg, q.version);
  const verdict: GateVerdict =
    m.result === "in-range" ? "affected" : m.result === "unknown" ? "unknown" : "not-affected";
  const why =
    m.result === "in-range"
      ? `${product} ${q.version} is in ${m.range}`
      : m.result === "unknown"
        ? m.reason
        : `${product} ${q.version} is outside ${advisory.id}'s ${product} ranges`;
  const line = `${parsed.major}.${parsed.minor}`;
  const fixedLine = pkg.fixedIn?.[line];
  const noFix = verdict === "affected" && fixedLine === undefined ? noFixInLine(pkg, line) : undefined;
  return answer(q, advisory, {
    verdict,
    reason: `${why}.${noFix !== undefined ? noFixText(noFix, "release") : ""}`,
    sources: [`${advisory.id} affected[${ecosystem}]`],
    ...(verdict === "affected" && fixedLine !== undefined
      ? { fixed: { version: fixedLine, calicoVersion: "" } }
      : {}),
    ...(noFix !== undefined ? { noFixInLine: noFix } : {}),
  });
}

function rke2Chart(q: GateQuery): string {
  return `rke2-${q.variant ?? "canal"}`;
}

function tableChartVersion(tables: VersionTables, release: string, chart: string): string | undefined {
  const charts = tables.rke2Releases[release]?.charts;
  if (charts === undefined || !(chart in charts)) return undefined;
  return charts[chart as Rke2ChartName].chartVersion;
}

/** The advisory's fixed release, and whether the Rancher the user runs offers it. */
function rke2Fixed(
  version: string,
  tables: VersionTables,
  ctx: GateContext,
): { fixed: GateAlternative; note: string } {
  const r = tables.rke2Releases[version]?.rancher;
  if (ctx.rancher === undefined || r === undefined)
    return { fixed: { version, calicoVersion: "" }, note: "" };
  const channel = `channel ${r.minChannelServerVersion}..${r.maxChannelServerVersion}`;
  return rancherOffersRke2(tables, ctx.rancher, version)
    ? { fixed: { version, calicoVersion: "", offeredBy: `Rancher ${ctx.rancher} (${channel})` }, note: "" }
    : {
        fixed: { version, calicoVersion: "" },
        note: ` Rancher ${ctx.rancher} does not offer ${version} (${channel}).`,
      };
}

/**
 * An RKE2 release against the advisory's release lists: affected when the entry for its chart lists
 * it, not affected when the tables know it and the list does not, unknown otherwise; another
 * chart than the listed ones is not affected.
 */
function checkRke2Listed(
  q: GateQuery,
  advisory: Advisory,
  entries: AffectedPackage[],
  tables: VersionTables,
  ctx: GateContext,
): GateAnswer {
  const chart = rke2Chart(q);
  const entry = entries.find((p) => p.package === chart);
  const listedCharts = entries.map((p) => p.package).join(", ");
  const sources = [
    sourceOf(tables, "rke2-releases.json"),
    `${advisory.id} affected[rke2] ${entry?.package ?? listedCharts}`,
  ];
  if (entry === undefined)
    return answer(q, advisory, {
      verdict: "not-affected",
      reason: `${q.version} with cni ${q.variant ?? "canal"} deploys ${chart}; ${advisory.id} lists ${listedCharts} releases only.`,
      sources,
    });
  const chartVersion = tableChartVersion(tables, q.version, chart);
  const ships =
    chartVersion !== undefined
      ? `${q.version} ships ${chart} ${chartVersion}`
      : `${q.version} deploys ${chart}`;
  if (names(entry.versions, q.version)) {
    const unverified = names(entry.unverified, q.version);
    const line = minorOf(q.version) ?? "";
    const fixedVersion = entry.fixedIn?.[line];
    const fixed = fixedVersion === undefined ? undefined : rke2Fixed(fixedVersion, tables, ctx);
    const noFix = fixedVersion === undefined ? noFixInLine(entry, line) : undefined;
    return answer(q, advisory, {
      verdict: "affected",
      ...(unverified ? { unverified: true } : {}),
      reason: `${ships}; ${advisory.id} lists it among the ${chart} releases it affects${unverified ? " (unverified: its sources do not settle it)" : ""}.${noFix !== undefined ? noFixText(noFix, "release") : ""}${fixed?.note ?? ""}`,
      sources,
      ...(fixed !== undefined ? { fixed: fixed.fixed } : {}),
      ...(noFix !== undefined ? { noFixInLine: noFix } : {}),
    });
  }
  if (tables.rke2Releases[q.version] !== undefined)
    return answer(q, advisory, {
      verdict: "not-affected",
      reason: `${ships}; ${advisory.id} does not list it among the ${chart} releases it affects.`,
      sources,
    });
  return answer(q, advisory, {
    verdict: "unknown",
    reason: `RKE2 release ${q.version} is neither in the version tables nor listed by ${advisory.id} (give --kdm with newer metadata)`,
    sources,
  });
}

type Rke1Image = { key: Rke1ImageKey; image: string; version?: string };

/** The image of the component an RKE1 version deploys with `plugin`, and the release its tag names. */
function rke1ComponentImage(
  tables: VersionTables,
  version: string,
  ecosystem: ComponentEcosystem,
  plugin: CniPlugin,
): Rke1Image | undefined {
  const key = rke1ComponentImageKey(ecosystem, plugin);
  const image = key === undefined ? undefined : tables.rke1Kubernetes[version]?.systemImages[key];
  if (key === undefined || image === undefined) return undefined;
  const ref = parseImageRef(image);
  const v = ref === undefined ? undefined : componentVersionFromImage(ecosystem, ref);
  return { key, image, ...(v !== undefined ? { version: v.text } : {}) };
}

/** The first RKE1 version after `current` (same line, or a later one) whose component is not affected. */
function rke1ComponentAlternative(
  tables: VersionTables,
  current: string,
  judged: { ecosystem: ComponentEcosystem; pkg: AffectedPackage; plugin: CniPlugin },
  ctx: GateContext,
  sameLine: boolean,
): GateAlternative | undefined {
  const line = minorOf(current) ?? "";
  const candidates = Object.keys(tables.rke1Kubernetes)
    .filter((v) => compareVersionNames(v, current) > 0)
    .filter((v) => (sameLine ? minorOf(v) === line : compareVersionNames(minorOf(v) ?? "", line) > 0))
    .sort(compareVersionNames);
  for (const v of candidates) {
    const img = rke1ComponentImage(tables, v, judged.ecosystem, judged.plugin);
    if (img?.version === undefined || matchVersion(judged.pkg, img.version).result !== "out-of-range")
      continue;
    if (ctx.rancher !== undefined && !rancherOffersRke1(tables, ctx.rancher, v)) continue;
    const c: GateComponent = { ecosystem: judged.ecosystem, version: img.version, image: img.image };
    return {
      version: v,
      calicoVersion: "",
      component: c,
      ...(ctx.rancher !== undefined ? { offeredBy: `Rancher ${ctx.rancher} (metadata refreshed)` } : {}),
    };
  }
  return undefined;
}

/** An RKE1 version judged by the release of the component's image in its system images. */
function checkRke1Component(
  q: GateQuery,
  advisory: Advisory,
  component: { ecosystem: ComponentEcosystem; pkg: AffectedPackage },
  tables: VersionTables,
  ctx: GateContext,
): GateAnswer {
  const plugin: CalicoPlugin = q.variant === "calico" ? "calico" : "canal";
  const product = ecosystemWords(component.ecosystem).product;
  const sources = [
    sourceOf(tables, "rke1-kubernetes.json"),
    `${advisory.id} affected[${component.ecosystem}]`,
  ];
  if (tables.rke1Kubernetes[q.version] === undefined)
    return answer(q, advisory, {
      verdict: "unknown",
      reason: `RKE1 Kubernetes version ${q.version} is not in the version tables (give --kdm with newer metadata)`,
      sources,
    });
  const plugins = advisory.component.plugins;
  if (plugins.length > 0 && !plugins.includes(plugin))
    return answer(q, advisory, {
      verdict: "not-affected",
      reason: `${q.version} deploys ${plugin}; ${advisory.id} concerns ${plugins.join(", ")} installs only.`,
      sources,
    });
  const img = rke1ComponentImage(tables, q.version, component.ecosystem, plugin);
  if (img === undefined)
    return answer(q, advisory, {
      verdict: "not-affected",
      reason: `RKE1's ${plugin} plugin deploys no ${product} image.`,
      sources,
    });
  if (img.version === undefined)
    return answer(q, advisory, {
      verdict: "unknown",
      reason: `${q.version}'s ${img.key} image ${img.image} names no ${product} release in its tag`,
      sources,
    });
  const deployed: GateComponent = {
    ecosystem: component.ecosystem,
    version: img.version,
    image: img.image,
    imageKey: img.key,
  };
  const m = matchVersion(component.pkg, img.version);
  const verdict: GateVerdict =
    m.result === "in-range" ? "affected" : m.result === "unknown" ? "unknown" : "not-affected";
  const why =
    m.result === "in-range"
      ? `${product} ${img.version} is in ${m.range}`
      : m.result === "unknown"
        ? m.reason
        : `${product} ${img.version} is outside ${advisory.id}'s ${product} ranges`;
  const fixed =
    verdict === "affected"
      ? rke1ComponentAlternative(tables, q.version, { ...component, plugin }, ctx, true)
      : undefined;
  const later =
    verdict === "affected" && fixed === undefined
      ? rke1ComponentAlternative(tables, q.version, { ...component, plugin }, ctx, false)
      : undefined;
  const line = minorOf(q.version) ?? "";
  const noFix: GateNoFixInLine | undefined =
    verdict === "affected" && fixed === undefined
      ? {
          line,
          ...(later !== undefined
            ? { next: { line: minorOf(later.version) ?? "", version: later.version } }
            : {}),
        }
      : undefined;
  return answer(q, advisory, {
    verdict,
    reason: `${q.version} deploys ${plugin} with ${img.key} ${img.image} (${product} ${img.version}); ${why}.${noFix !== undefined ? noFixText(noFix, "version") : ""}`,
    sources,
    component: deployed,
    ...(fixed !== undefined ? { fixed } : {}),
    ...(noFix !== undefined ? { noFixInLine: noFix } : {}),
  });
}

/**
 * Status of a version by a range: affected inside it; fixed when outside it but carrying the change
 * the problem came with (a later release of a line a range starts in, or a newer line); else not
 * affected (it predates the problem).
 */
function rangeClassifier(pkg: AffectedPackage): (version: string) => IncidentStatus {
  const starts = (pkg.ranges ?? [])
    .map((r) => parseTriple(r.introduced))
    .filter((t): t is NonNullable<typeof t> => t !== undefined);
  const lineOf = (t: { major: number; minor: number }): number => t.major * 1000 + t.minor;
  return (version) => {
    if (matchVersion(pkg, version).result === "in-range") return "affected";
    const v = parseTriple(version);
    if (v === undefined || starts.length === 0) return "not-affected";
    if (lineOf(v) > Math.max(...starts.map(lineOf))) return "fixed";
    return starts.some((t) => lineOf(t) === lineOf(v) && v.patch > t.patch) ? "fixed" : "not-affected";
  };
}

/** Status of a release by a release list: listed is affected; a later release of a listed line, or a newer line, is fixed. */
function listClassifier(entry: AffectedPackage): (version: string) => IncidentStatus {
  const listed = [...(entry.versions ?? [])].sort(compareVersionNames);
  const newestLine =
    listed
      .map((v) => minorOf(v) ?? "")
      .sort(compareVersionNames)
      .at(-1) ?? "";
  return (version) => {
    if (names(listed, version)) return "affected";
    const line = minorOf(version) ?? "";
    const first = listed.find((v) => minorOf(v) === line);
    if (first !== undefined) return compareVersionNames(version, first) > 0 ? "fixed" : "not-affected";
    return compareVersionNames(line, newestLine) > 0 ? "fixed" : "not-affected";
  };
}

function splitBy(versions: string[], status: (v: string) => IncidentStatus | undefined): OfferedSplit {
  const affected: string[] = [];
  const fixed: string[] = [];
  for (const v of versions) {
    const s = status(v);
    if (s === "affected") affected.push(v);
    else if (s === "fixed") fixed.push(v);
  }
  return { affected: affected.sort(compareVersionNames), fixed: fixed.sort(compareVersionNames) };
}

/** A Rancher version: listed by the advisory's Rancher entry, its offers split by the advisory's own data. */
function checkRancherOwnData(q: GateQuery, advisory: Advisory, tables: VersionTables): GateAnswer {
  return rancherAnswer(q, advisory, tables, (rancher) => {
    const entry = listedRke2Entries(advisory)[0];
    const byList = entry === undefined ? undefined : listClassifier(entry);
    const rke2 = splitBy(
      Object.keys(tables.rke2Releases).filter((v) => rancherOffersRke2(tables, rancher, v)),
      (v) => byList?.(v),
    );
    const component = componentPackage(advisory);
    const plugin = advisory.component.plugins.find(
      (p) => component !== undefined && rke1ComponentImageKey(component.ecosystem, p) !== undefined,
    );
    const key =
      component === undefined || plugin === undefined
        ? undefined
        : rke1ComponentImageKey(component.ecosystem, plugin);
    const byRange = component === undefined ? undefined : rangeClassifier(component.pkg);
    const rke1 = splitBy(
      Object.keys(tables.rke1Kubernetes).filter((v) => rancherOffersRke1(tables, rancher, v)),
      (v) => {
        if (component === undefined || plugin === undefined || byRange === undefined) return undefined;
        const img = rke1ComponentImage(tables, v, component.ecosystem, plugin);
        return img?.version === undefined ? undefined : byRange(img.version);
      },
    );
    return {
      rke1,
      rke2,
      rke1Basis: key !== undefined ? ` (${key} image)` : "",
      rke2Basis: entry !== undefined ? ` (${entry.package})` : "",
    };
  });
}

/**
 * The answer for an advisory without a Calico range, from its own entries; undefined when none of
 * them speaks to the query's kind (no row, as for a Calico release and an advisory without one).
 */
export function checkOwnData(
  q: GateQuery,
  advisory: Advisory,
  tables: VersionTables,
  ctx: GateContext,
): GateAnswer | undefined {
  if (isComponentKind(q.kind)) return checkComponentRelease(q, advisory);
  if (q.kind === "rke2") {
    const entries = listedRke2Entries(advisory);
    return entries.length > 0 ? checkRke2Listed(q, advisory, entries, tables, ctx) : undefined;
  }
  if (q.kind === "rke1") {
    const component = componentPackage(advisory);
    return component !== undefined ? checkRke1Component(q, advisory, component, tables, ctx) : undefined;
  }
  if (q.kind === "rancher")
    return advisory.affected.some((p) => p.ecosystem === "rancher")
      ? checkRancherOwnData(q, advisory, tables)
      : undefined;
  return undefined;
}
