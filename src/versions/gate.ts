// The version gate: "is the version I am about to run affected?" answered from the advisories'
// upstream Calico ranges and the version tables, without a cluster. For an advisory with a Calico
// range every ecosystem reduces to the Calico release it ships, so a release the tables learned
// from a KDM file is judged the same way as a shipped one, and no advisory version is named here.
// Advisories without one are answered from their own lists and ranges (gate-own-data.ts).

import type { Advisory, AffectedPackage, FelixSettingCondition } from "../model/advisory.js";
import { matchVersion, parseTriple } from "../advisories/ranges.js";
import { compareVersionNames, minorOf } from "./order.js";
import { parseCalicoVersion } from "./calico.js";
import { calicoVersionFromImage, parseImageRef } from "./image.js";
import { rancherOffersRke1, rancherOffersRke2, compareRancher } from "./rancher.js";
import { rancherAnswer } from "./gate-rancher.js";
import { checkComponentRelease, checkOwnData } from "./gate-own-data.js";
import {
  rke1FixedVersionFor,
  type IncidentStatus,
  type Rke2ChartName,
  type VersionTables,
} from "./tables.js";
import {
  answer,
  sourceOf,
  type GateAlternative,
  type GateAnswer,
  type GateContext,
  type GateQuery,
  type GateVerdict,
} from "./gate-answer.js";

export type {
  GateAlternative,
  GateAnswer,
  GateComponent,
  GateContext,
  GateKind,
  GateNoFixInLine,
  GateQuery,
  GateVerdict,
} from "./gate-answer.js";

function calicoPackage(a: Advisory): AffectedPackage | undefined {
  return a.affected.find((p) => p.ecosystem === "calico");
}

type CalicoStatus = "affected" | "not-affected" | "unknown";

/** The advisory's verdict for one upstream Calico release. */
export function calicoStatus(advisory: Advisory, version: string): { status: CalicoStatus; why: string } {
  const pkg = calicoPackage(advisory);
  if (pkg === undefined) return { status: "unknown", why: `${advisory.id} names no Calico range` };
  const m = matchVersion(pkg, version);
  if (m.result === "in-range") return { status: "affected", why: `Calico ${version} is in ${m.range}` };
  if (m.result === "unknown") return { status: "unknown", why: m.reason };
  return { status: "not-affected", why: `Calico ${version} is outside ${advisory.id}'s ranges` };
}

/** Felix-setting conditions a chart's defaults leave unmet (e.g. a chart that turns a setting off). */
function unmetByDefaults(advisory: Advisory, defaults: Record<string, boolean>): FelixSettingCondition[] {
  return advisory.conditions.filter(
    (c): c is FelixSettingCondition =>
      c.kind === "felix-setting" && c.field in defaults && defaults[c.field] !== c.equals,
  );
}

function checkCalico(q: GateQuery, advisory: Advisory): GateAnswer {
  const parsed = parseCalicoVersion(q.version);
  if (parsed === undefined)
    return answer(q, advisory, {
      verdict: "unknown",
      reason: `'${q.version}' is not a Calico release (expected e.g. v3.28.0)`,
      sources: [],
    });
  const s = calicoStatus(advisory, q.version);
  const pkg = calicoPackage(advisory);
  const fixedLine = pkg?.fixedIn?.[`${parsed.major}.${parsed.minor}`];
  return answer(q, advisory, {
    verdict: s.status,
    calicoVersion: q.version,
    reason: s.why,
    sources: [`${advisory.id} affected[calico]`],
    ...(s.status === "affected" && fixedLine !== undefined
      ? { fixed: { version: fixedLine, calicoVersion: fixedLine } }
      : {}),
  });
}

function rke1Plugin(q: GateQuery): "calico" | "canal" {
  return q.variant === "calico" ? "calico" : "canal";
}

function rke1Calico(tables: VersionTables, version: string, plugin: "calico" | "canal"): string | undefined {
  const entry = tables.rke1Kubernetes[version];
  if (entry === undefined) return undefined;
  const image = plugin === "calico" ? entry.systemImages.calico_node : entry.systemImages.canal_node;
  const ref = image === undefined ? undefined : parseImageRef(image);
  const v = ref === undefined ? undefined : calicoVersionFromImage(ref);
  return v === undefined ? entry.calicoVersion : `v${v.major}.${v.minor}.${v.patch}`;
}

function checkRke1(q: GateQuery, advisory: Advisory, tables: VersionTables, ctx: GateContext): GateAnswer {
  const plugin = rke1Plugin(q);
  const calico = rke1Calico(tables, q.version, plugin);
  const sources = [sourceOf(tables, "rke1-kubernetes.json"), `${advisory.id} affected[calico]`];
  if (calico === undefined)
    return answer(q, advisory, {
      verdict: "unknown",
      reason: `RKE1 Kubernetes version ${q.version} is not in the version tables (give --kdm with newer metadata)`,
      sources,
    });
  const s = calicoStatus(advisory, calico);
  const fixed =
    s.status === "affected" ? rke1Alternative(advisory, tables, q.version, plugin, ctx) : undefined;
  const offerNote =
    s.status === "affected" && fixed === undefined
      ? rke1NoneOffered(advisory, tables, q.version, plugin, ctx)
      : "";
  const unverified = s.status === "affected" && listedUnverified(advisory, "rke1-kubernetes", q.version);
  return answer(q, advisory, {
    verdict: s.status,
    ...(unverified ? { unverified: true } : {}),
    calicoVersion: calico,
    reason: `${q.version} deploys ${plugin} with Calico ${calico}; ${s.why}.${offerNote}${unverified ? ` ${advisory.id} lists ${q.version} as unverified: its sources do not settle which Calico the released metadata gives it.` : ""}`,
    sources,
    ...(fixed !== undefined ? { fixed } : {}),
  });
}

/** Who narrowed the alternatives, e.g. "Rancher v2.9.1 or RKE CLI v1.6.1"; undefined when nobody. */
function constraintText(ctx: GateContext): string | undefined {
  const who = [
    ctx.rancher !== undefined ? `Rancher ${ctx.rancher}` : undefined,
    ctx.rkeCli !== undefined ? `RKE CLI ${ctx.rkeCli}` : undefined,
  ].filter((x): x is string => x !== undefined);
  return who.length > 0 ? who.join(" or ") : undefined;
}

/** What an affected RKE1 version's answer says when no fixed version of its minor is offered. */
function rke1NoneOffered(
  advisory: Advisory,
  tables: VersionTables,
  version: string,
  plugin: "calico" | "canal",
  ctx: GateContext,
): string {
  const minor = minorOf(version) ?? "";
  const who = constraintText(ctx);
  if (who === undefined) return ` No later ${minor} version ships a fixed Calico.`;
  const anywhere = rke1Alternative(advisory, tables, version, plugin, {});
  if (anywhere === undefined) return ` No later ${minor} version ships a fixed Calico.`;
  const gates = rke1Gates(tables, anywhere.version);
  return ` ${who} offers no later ${minor} version with a fixed Calico; ${anywhere.version} (Calico ${anywhere.calicoVersion}) has one${gates.length > 0 ? ` and needs ${gates.join(", or ")}` : ""}.`;
}

/** What offers an RKE1 version: the first RKE CLI release, and Rancher by its minor's gate. */
function rke1Gates(tables: VersionTables, version: string): string[] {
  const target = rke1FixedVersionFor(version, tables);
  if (target?.k8sVersion !== version) return [];
  return [
    target.minRkeCli !== undefined ? `RKE CLI ${target.minRkeCli} or later` : undefined,
    target.minRancherForMinor !== undefined
      ? `Rancher ${target.minRancherForMinor.replace(/-patch0$/, "")} or later with metadata refreshed${target.firstSeen !== undefined ? ` after ${target.firstSeen}` : ""}`
      : undefined,
  ].filter((x): x is string => x !== undefined);
}

/** Whether the advisory's entry for `ecosystem` names `version` as unverified. */
function listedUnverified(
  advisory: Advisory,
  ecosystem: AffectedPackage["ecosystem"],
  version: string,
): boolean {
  const bare = (v: string): string => v.trim().replace(/^v/, "");
  return advisory.affected.some(
    (p) => p.ecosystem === ecosystem && (p.unverified ?? []).some((u) => bare(u) === bare(version)),
  );
}

function rke1Alternative(
  advisory: Advisory,
  tables: VersionTables,
  current: string,
  plugin: "calico" | "canal",
  ctx: GateContext,
): GateAlternative | undefined {
  const minor = minorOf(current);
  const cli = ctx.rkeCli === undefined ? undefined : tables.rkeCliReleases[ctx.rkeCli];
  const candidates = Object.keys(tables.rke1Kubernetes)
    .filter((v) => minorOf(v) === minor && compareVersionNames(v, current) > 0)
    .sort(compareVersionNames);
  for (const v of candidates) {
    const calico = rke1Calico(tables, v, plugin);
    if (calico === undefined || calicoStatus(advisory, calico).status !== "not-affected") continue;
    if (ctx.rancher !== undefined && !rancherOffersRke1(tables, ctx.rancher, v)) continue;
    if (cli !== undefined && !cli.k8sWithFixedCalico.some((k) => k.k8sVersion === v)) continue;
    const by = [
      ctx.rancher !== undefined ? `Rancher ${ctx.rancher} (metadata refreshed)` : undefined,
      ctx.rkeCli !== undefined ? `RKE CLI ${ctx.rkeCli}` : undefined,
    ].filter((x): x is string => x !== undefined);
    // Nobody named: say what offers it, so the answer fits whichever tool the user runs.
    const offeredBy = by.length > 0 ? by.join(", ") : rke1Gates(tables, v).join("; ");
    return { version: v, calicoVersion: calico, ...(offeredBy !== "" ? { offeredBy } : {}) };
  }
  return undefined;
}

function rke2Chart(q: GateQuery): Rke2ChartName {
  return q.variant === "calico" ? "rke2-calico" : "rke2-canal";
}

function checkRke2(q: GateQuery, advisory: Advisory, tables: VersionTables, ctx: GateContext): GateAnswer {
  const chart = rke2Chart(q);
  const entry = tables.rke2Releases[q.version]?.charts[chart];
  const sources = [sourceOf(tables, "rke2-releases.json"), `${advisory.id} affected[calico]`];
  if (entry === undefined)
    return answer(q, advisory, {
      verdict: "unknown",
      reason: `RKE2 release ${q.version} is not in the version tables (give --kdm with newer metadata)`,
      sources,
    });
  const s = calicoStatus(advisory, entry.calicoVersion);
  const unmet =
    s.status === "affected" ? unmetByDefaults(advisory, { xdpEnabled: entry.xdpEnabledByChart }) : [];
  const verdict: GateVerdict = s.status === "affected" && unmet.length > 0 ? "conditional" : s.status;
  const fixed =
    s.status === "affected" ? rke2Alternative(advisory, tables, q.version, chart, ctx) : undefined;
  const cond =
    unmet.length > 0
      ? ` The ${chart} chart's defaults leave ${unmet.map((c) => c.id).join(", ")} unmet, so only an override exposes it.`
      : "";
  const none =
    s.status === "affected" && fixed === undefined
      ? ` No later ${minorOf(q.version) ?? ""} release${ctx.rancher !== undefined ? ` offered by Rancher ${ctx.rancher}` : ""} ships a fixed ${chart}.`
      : "";
  const byRancher =
    s.status === "affected" && ctx.rancher === undefined
      ? rke2ByRancherNote(advisory, tables, q.version, chart)
      : "";
  return answer(q, advisory, {
    verdict,
    calicoVersion: entry.calicoVersion,
    reason: `${q.version} ships ${chart} ${entry.chartVersion} (Calico ${entry.calicoVersion}); ${s.why}.${cond}${none}${byRancher}`,
    unmetConditions: unmet.map((c) => c.id),
    sources,
    ...(fixed !== undefined ? { fixed } : {}),
  });
}

/** With the Rancher version unknown: the fixed release each Rancher range offers, when they differ. */
function rke2ByRancherNote(
  advisory: Advisory,
  tables: VersionTables,
  version: string,
  chart: Rke2ChartName,
): string {
  const choices = fixedRke2ByRancher(advisory, tables, version, chart);
  if (choices.length < 2) return "";
  const list = choices.map((c) => `${c.version} for Rancher ${c.minRancher}..${c.maxRancher}`).join(", ");
  return ` Under Rancher the smallest fixed release depends on its version (give --rancher): ${list}.`;
}

function rke2Alternative(
  advisory: Advisory,
  tables: VersionTables,
  current: string,
  chart: Rke2ChartName,
  ctx: GateContext,
): GateAlternative | undefined {
  const minor = minorOf(current);
  const candidates = Object.keys(tables.rke2Releases)
    .filter((v) => minorOf(v) === minor && compareVersionNames(v, current) > 0)
    .sort(compareVersionNames);
  for (const v of candidates) {
    const release = tables.rke2Releases[v];
    const c = release?.charts[chart];
    if (release === undefined || c === undefined) continue;
    if (calicoStatus(advisory, c.calicoVersion).status !== "not-affected") continue;
    if (ctx.rancher !== undefined && !rancherOffersRke2(tables, ctx.rancher, v)) continue;
    const r = release.rancher;
    const offeredBy =
      ctx.rancher !== undefined && r !== undefined
        ? `Rancher ${ctx.rancher} (channel ${r.minChannelServerVersion}..${r.maxChannelServerVersion})`
        : undefined;
    return { version: v, calicoVersion: c.calicoVersion, ...(offeredBy ? { offeredBy } : {}) };
  }
  return undefined;
}

/** The smallest fixed RKE2 release of `current`'s minor (that Rancher `rancher` offers, when given). */
export function smallestFixedRke2(
  advisory: Advisory,
  tables: VersionTables,
  current: string,
  chart: Rke2ChartName,
  rancher?: string,
): GateAlternative | undefined {
  return rke2Alternative(advisory, tables, current, chart, rancher !== undefined ? { rancher } : {});
}

export interface RancherLineChoice {
  version: string;
  calicoVersion: string;
  /** The Rancher channel-server range that offers it. */
  minRancher: string;
  maxRancher: string;
  /** When Rancher's metadata first listed it (oldest KDM snapshot that does). */
  firstSeen?: { date: string; kdmSnapshot: string };
}

/**
 * What differs by Rancher version: the fixed releases of `current`'s minor in order, keeping each
 * one that reaches Rancher versions the earlier ones do not (e.g. v1.30.4 up to 2.9.99, then
 * v1.30.5 up to 2.10.99). The first whose range holds a Rancher version is its smallest fixed one.
 */
export function fixedRke2ByRancher(
  advisory: Advisory,
  tables: VersionTables,
  current: string,
  chart: Rke2ChartName,
): RancherLineChoice[] {
  const minor = minorOf(current);
  const out: RancherLineChoice[] = [];
  const candidates = Object.keys(tables.rke2Releases)
    .filter((v) => minorOf(v) === minor && compareVersionNames(v, current) > 0)
    .sort(compareVersionNames);
  for (const v of candidates) {
    const release = tables.rke2Releases[v];
    const c = release?.charts[chart];
    const r = release?.rancher;
    if (c === undefined || r === undefined) continue;
    if (calicoStatus(advisory, c.calicoVersion).status !== "not-affected") continue;
    const widest = out.at(-1)?.maxRancher;
    if (widest !== undefined && (compareRancher(r.maxChannelServerVersion, widest) ?? 0) <= 0) continue;
    out.push({
      version: v,
      calicoVersion: c.calicoVersion,
      minRancher: r.minChannelServerVersion,
      maxRancher: r.maxChannelServerVersion,
      ...(release?.firstSeen !== undefined ? { firstSeen: release.firstSeen } : {}),
    });
  }
  return out;
}

/** The smallest fixed RKE1 version of `current`'s minor that Rancher `rancher` offers, when given. */
export function smallestFixedRke1(
  advisory: Advisory,
  tables: VersionTables,
  current: string,
  plugin: "calico" | "canal",
  rancher?: string,
): GateAlternative | undefined {
  return rke1Alternative(advisory, tables, current, plugin, rancher !== undefined ? { rancher } : {});
}

type Listed = { version: string; calico: string | undefined };

/**
 * Splits `versions` (what one Rancher or RKE CLI offers) into those with an affected Calico and
 * those with a fixed one: not affected and newer than the start of an affected range, as the
 * advisory's ranges say (releases that predate the problem are in neither list).
 */
function split(advisory: Advisory, versions: Listed[]): { affected: string[]; fixed: string[] } {
  const classify = advisoryClassifier([advisory]);
  const affected: string[] = [];
  const fixed: string[] = [];
  for (const { version, calico } of versions) {
    if (calico === undefined) continue;
    const s = classify(calico);
    if (s === "affected") affected.push(version);
    else if (s === "fixed") fixed.push(version);
  }
  return { affected: affected.sort(compareVersionNames), fixed: fixed.sort(compareVersionNames) };
}

function checkRancher(q: GateQuery, advisory: Advisory, tables: VersionTables): GateAnswer {
  return rancherAnswer(q, advisory, tables, (rancher) => {
    const allRke1 = Object.keys(tables.rke1Kubernetes).map((v) => ({
      version: v,
      calico: rke1Calico(tables, v, "canal"),
    }));
    const rke1 = split(
      advisory,
      allRke1.filter((e) => rancherOffersRke1(tables, rancher, e.version)),
    );
    const rke2Chart: Rke2ChartName = "rke2-calico";
    const allRke2 = Object.keys(tables.rke2Releases).map((v) => ({
      version: v,
      calico: tables.rke2Releases[v]?.charts[rke2Chart]?.calicoVersion,
    }));
    const rke2 = split(
      advisory,
      allRke2.filter((e) => rancherOffersRke2(tables, rancher, e.version)),
    );
    return { rke1, rke2, rke1Basis: "", rke2Basis: ` (${rke2Chart})` };
  });
}

function checkRkeCli(q: GateQuery, advisory: Advisory, tables: VersionTables): GateAnswer {
  const entry = tables.rkeCliReleases[q.version];
  const sources = [sourceOf(tables, "rke-cli-releases.json"), `${advisory.id} affected[calico]`];
  if (entry === undefined)
    return answer(q, advisory, {
      verdict: "unknown",
      reason: `RKE CLI ${q.version} is not in the version tables`,
      sources,
    });
  const defaultCalico = rke1Calico(tables, entry.defaultK8s, "canal");
  const s =
    defaultCalico === undefined
      ? { status: "unknown" as const, why: `its default ${entry.defaultK8s} is not in the tables` }
      : calicoStatus(advisory, defaultCalico);
  const offered = split(advisory, [
    ...entry.k8sWithAffectedCalico.map((k) => ({ version: k.k8sVersion, calico: k.calicoVersion })),
    ...entry.k8sWithFixedCalico.map((k) => ({ version: k.k8sVersion, calico: k.calicoVersion })),
  ]);
  const next =
    s.status === "affected"
      ? Object.keys(tables.rkeCliReleases)
          .filter((v) => {
            const e = tables.rkeCliReleases[v];
            if (e === undefined || e.prerelease || minorOf(v) !== minorOf(q.version)) return false;
            if (compareVersionNames(v, q.version) <= 0) return false;
            const c = rke1Calico(tables, e.defaultK8s, "canal");
            return c !== undefined && calicoStatus(advisory, c).status === "not-affected";
          })
          .sort(compareVersionNames)[0]
      : undefined;
  const nextDefault = next === undefined ? undefined : tables.rkeCliReleases[next]?.defaultK8s;
  return answer(q, advisory, {
    verdict: s.status,
    ...(defaultCalico !== undefined ? { calicoVersion: defaultCalico } : {}),
    reason: `RKE CLI ${q.version} defaults to ${entry.defaultK8s}${defaultCalico !== undefined ? ` (Calico ${defaultCalico})` : ""}; ${s.why}. It offers ${offered.affected.length} affected and ${offered.fixed.length} fixed versions; the running image decides, so pin a fixed kubernetes_version.`,
    sources,
    offered: [{ distribution: "rke1", ...offered }],
    ...(next !== undefined && nextDefault !== undefined
      ? {
          fixed: {
            version: next,
            calicoVersion: rke1Calico(tables, nextDefault, "canal") ?? "",
            offeredBy: `RKE CLI ${next}, its default ${nextDefault}`,
          },
        }
      : {}),
  });
}

/** Whether the advisory is judged by upstream Calico release (it has a Calico range). */
export function judgedByCalicoRange(advisory: Advisory): boolean {
  return calicoPackage(advisory) !== undefined;
}

/**
 * An RKE2 CNI whose chart the tables carry no Calico for (e.g. cni flannel): it runs no
 * calico-node, so an advisory judged by Calico release does not concern it.
 */
function rke2ChartWithoutCalico(q: GateQuery, advisory: Advisory): GateAnswer {
  const chart = `rke2-${q.variant ?? "canal"}`;
  return answer(q, advisory, {
    verdict: "not-affected",
    reason: `${q.version} with cni ${q.variant ?? "canal"} deploys ${chart}, which ships no Calico release; ${advisory.id} is judged by Calico release.`,
    sources: [`${advisory.id} affected[calico]`],
  });
}

function checkByCalicoRange(
  q: GateQuery,
  advisory: Advisory,
  tables: VersionTables,
  ctx: GateContext,
): GateAnswer | undefined {
  if (q.kind === "calico") return checkCalico(q, advisory);
  if (q.kind === "flannel") return checkComponentRelease(q, advisory);
  if (q.kind === "rke1") return checkRke1(q, advisory, tables, ctx);
  if (q.kind === "rke2")
    return q.variant === undefined || q.variant === "calico" || q.variant === "canal"
      ? checkRke2(q, advisory, tables, ctx)
      : rke2ChartWithoutCalico(q, advisory);
  if (q.kind === "rancher") return checkRancher(q, advisory, tables);
  return checkRkeCli(q, advisory, tables);
}

/**
 * Answers every query against every advisory: by its Calico range when it has one (as the
 * platform section of a scan does), else by its own release lists and component ranges. A query
 * an advisory has nothing to say about gets no answer from it.
 */
export function checkVersions(
  queries: GateQuery[],
  advisories: Advisory[],
  tables: VersionTables,
  ctx: GateContext = {},
): GateAnswer[] {
  const out: GateAnswer[] = [];
  for (const advisory of advisories) {
    const byCalico = judgedByCalicoRange(advisory);
    for (const q of queries) {
      const a = byCalico
        ? checkByCalicoRange(q, advisory, tables, ctx)
        : checkOwnData(q, advisory, tables, ctx);
      if (a !== undefined) out.push(a);
    }
  }
  return out;
}

/** Exit code as for scan: 3 when anything checked is affected, 4 when something is unknown. */
export function gateExitCode(answers: GateAnswer[]): 0 | 3 | 4 {
  if (answers.some((a) => a.verdict === "affected")) return 3;
  if (answers.some((a) => a.verdict === "unknown")) return 4;
  return 0;
}

/**
 * Table status for a Calico release from advisory ranges: affected when any advisory's range holds
 * it; "fixed" when it is not affected but carries the change the problem came with — a later
 * release of a line a range starts in (v3.27.4 after v3.27.3), or any release of a line newer than
 * every range's (v3.29.0); otherwise not affected (it predates the problem, e.g. v3.27.0).
 */
export function advisoryClassifier(advisories: Advisory[]): (calico: string) => IncidentStatus {
  return (calico) => {
    const v = parseTriple(calico);
    let fixed = false;
    for (const a of advisories) {
      if (calicoStatus(a, calico).status === "affected") return "affected";
      const starts = (calicoPackage(a)?.ranges ?? [])
        .map((r) => parseTriple(r.introduced))
        .filter((t): t is NonNullable<typeof t> => t !== undefined);
      if (v === undefined || starts.length === 0) continue;
      const line = (t: { major: number; minor: number }): number => t.major * 1000 + t.minor;
      const newestLine = Math.max(...starts.map(line));
      if (line(v) > newestLine) fixed = true;
      for (const t of starts) if (line(t) === line(v) && v.patch > t.patch) fixed = true;
    }
    return fixed ? "fixed" : "not-affected";
  };
}
