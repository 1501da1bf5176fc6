// Fleet report writers. JSON and YAML serialise the FleetReport (the per-cluster `report` is the
// canonical report a single scan prints); table, Markdown and HTML show one summary row per
// cluster, and Markdown and HTML follow it with each cluster's own report, rendered by the
// single-cluster writers when that cluster finished (see keepFor).

import { createRequire } from "node:module";
import type { Report } from "../model/finding.js";
import type { OutputFormat } from "../cli/flags.js";
import { readFileSync } from "node:fs";
import { renderJson } from "../report/json.js";
import { escapeHtml, htmlPage, reportSections } from "../report/html.js";
import { renderMarkdown } from "../report/markdown.js";
import { padEnd, paint, truncate, width, type Paint } from "../report/text.js";
import { targetLine } from "../report/view.js";
import type { Keep } from "./run.js";
import type { FleetCluster, FleetReport } from "./report.js";

/** A cluster's kept text, read back from its spill file when it was written out. */
export function detailText(c: FleetCluster): string | undefined {
  const d = c.detail;
  if (d === undefined) return undefined;
  return "text" in d ? d.text : readFileSync(d.file, "utf8");
}

export interface FleetRenderOptions {
  color: boolean;
}

/** What each finished cluster keeps for the chosen format; the table needs only the summary. */
export function keepFor(format: OutputFormat): Keep {
  switch (format) {
    case "json":
    case "yaml":
      return (report: Report) => renderJson(report);
    case "html":
      return (report: Report) => clusterHtml(report);
    case "markdown":
      return (report: Report) => clusterMarkdown(report);
    case "table":
      return () => undefined;
  }
}

export function renderFleet(
  report: FleetReport,
  format: OutputFormat,
  options: FleetRenderOptions,
): string | Iterable<string> {
  switch (format) {
    case "json":
      return fleetJsonChunks(report);
    case "yaml":
      return fleetYamlChunks(report);
    case "table":
      return renderFleetTable(report, options);
    case "markdown":
      return renderFleetMarkdown(report);
    case "html":
      return renderFleetHtml(report);
  }
}

/** A cluster as the schema has it, without its report (which the writers add from its detail). */
function publicCluster(c: FleetCluster): Omit<FleetCluster, "detail"> {
  return {
    context: c.context,
    server: c.server,
    outcome: c.outcome,
    exitCode: c.exitCode,
    summary: c.summary,
    ...(c.gap !== undefined ? { gap: c.gap } : {}),
  };
}

/**
 * JSON.stringify(report, null, 2) in pieces, one per cluster, each cluster's report read back (from
 * its spill file) only when it is written, so a fleet of large clusters is never held whole.
 */
export function* fleetJsonChunks(report: FleetReport): Generator<string> {
  const head = JSON.stringify({ ...report, clusters: [] }, null, 2);
  // `clusters` is the last key: the text ends with `"clusters": []\n}`.
  yield head.slice(0, head.length - "[]\n}".length);
  if (report.clusters.length === 0) {
    yield "[]\n}\n";
    return;
  }
  yield "[\n";
  for (let i = 0; i < report.clusters.length; i++) {
    const c = report.clusters[i];
    if (c === undefined) continue;
    const own = JSON.stringify(publicCluster(c), null, 2).replaceAll("\n", "\n    ");
    const json = detailText(c);
    if (json === undefined) yield `    ${own}`;
    else {
      // The report is the last key: nested six spaces deep, as JSON.stringify would put it.
      yield `    ${own.slice(0, own.length - "\n    }".length)},\n      "report": `;
      yield json.trimEnd().replaceAll("\n", "\n      ");
      yield "\n    }";
    }
    yield i + 1 < report.clusters.length ? ",\n" : "\n";
  }
  yield "  ]\n}\n";
}

export function renderFleetJson(report: FleetReport): string {
  return [...fleetJsonChunks(report)].join("");
}

type Stringify = (value: unknown, options: { lineWidth: number; aliasDuplicateObjects: boolean }) => string;

/** YAML of the same data, one cluster at a time (each parsed back from its JSON only for its turn). */
export function* fleetYamlChunks(report: FleetReport): Generator<string> {
  const stringify = (createRequire(import.meta.url)("yaml") as { stringify: Stringify }).stringify;
  const options = { lineWidth: 0, aliasDuplicateObjects: false };
  const head = stringify({ ...report, clusters: [] }, options);
  if (report.clusters.length === 0) {
    yield head;
    return;
  }
  // `clusters` is the last key: the text ends with `clusters: []\n`.
  yield `${head.slice(0, head.length - " []\n".length)}\n`;
  for (const c of report.clusters) {
    const json = detailText(c);
    const item = {
      ...publicCluster(c),
      ...(json !== undefined ? { report: JSON.parse(json) as unknown } : {}),
    };
    const lines = stringify(item, options).trimEnd().split("\n");
    yield `${lines.map((l, i) => (i === 0 ? `  - ${l}` : l === "" ? l : `    ${l}`)).join("\n")}\n`;
  }
}

export function renderFleetYaml(report: FleetReport): string {
  return [...fleetYamlChunks(report)].join("");
}

/** The advisories any cluster reported, in name order: one column (or cell group) each. */
function advisoryIds(report: FleetReport): string[] {
  return Object.keys(report.summary.byAdvisory);
}

const DASH = "—";

/** One row of cells per cluster, shared by the table and the Markdown and HTML overviews. */
interface Row {
  cluster: string;
  distribution: string;
  plugin: string;
  rancher: string;
  /** Per advisory "affected/at-risk/unknown", "—" when the cluster has no verdicts for it. */
  counts: string[];
  firstStep: string;
  /** The status the row is coloured by. */
  worst: "affected" | "at-risk" | "unknown" | "not-affected";
}

function rowOf(c: FleetCluster, ids: readonly string[]): Row {
  const s = c.summary;
  const counts = ids.map((id) => {
    const a = s.advisories.find((x) => x.id === id);
    return a === undefined ? DASH : `${a.affected}/${a.atRisk}/${a.unknown}`;
  });
  const gap =
    c.outcome === "gap"
      ? `gap: ${c.gap?.reason ?? "error"}`
      : c.outcome === "interrupted"
        ? "not finished"
        : "";
  return {
    cluster: c.context,
    distribution:
      gap !== "" ? gap : [s.distribution, s.kubernetesVersion].filter((x) => x !== null).join(" ") || "?",
    plugin: gap !== "" ? "" : [s.plugin, s.calicoVersion].filter((x) => x !== null).join(" ") || "?",
    rancher: gap !== "" ? "" : s.rancherManaged === null ? "?" : s.rancherManaged ? "yes" : "no",
    counts,
    firstStep: gap !== "" ? (c.gap?.message ?? "interrupted before it finished") : (s.firstStep ?? DASH),
    worst:
      c.exitCode === 3
        ? s.advisories.some((a) => a.affected > 0)
          ? "affected"
          : "at-risk"
        : c.exitCode === 4
          ? "unknown"
          : "not-affected",
  };
}

function headers(ids: readonly string[]): string[] {
  return ["CLUSTER", "DISTRIBUTION", "PLUGIN", "RANCHER", ...ids.map((id) => `${id} A/R/U`), "FIRST STEP"];
}

function cellsOf(r: Row): string[] {
  return [r.cluster, r.distribution, r.plugin, r.rancher, ...r.counts, r.firstStep];
}

function verdictLine(report: FleetReport): string {
  const n = report.clusters.length;
  const by = (code: number): number => report.clusters.filter((c) => c.exitCode === code).length;
  const gaps = report.clusters.filter((c) => c.outcome !== "scanned").length;
  return `${n} cluster${n === 1 ? "" : "s"}: ${by(3)} affected or at risk, ${by(0)} clean, ${by(4)} not fully evaluated (${gaps} not scanned)`;
}

const MAX: readonly number[] = [32, 28, 28, 7];

export function renderFleetTable(report: FleetReport, options: FleetRenderOptions): string {
  const p: Paint = paint(options.color);
  const ids = advisoryIds(report);
  const titles = headers(ids);
  const rows = report.clusters.map((c) => rowOf(c, ids));
  const cells = rows.map((r) =>
    cellsOf(r).map((v, i) => truncate(v, MAX[i] ?? (i === titles.length - 1 ? 72 : 24))),
  );
  const widths = titles.map((t, i) => Math.max(width(t), ...cells.map((row) => width(row[i] ?? ""))));
  const line = (values: string[], colour: (i: number, padded: string) => string): string =>
    values
      .map((v, i) => colour(i, i === values.length - 1 ? v : padEnd(v, widths[i] ?? 0)))
      .join("  ")
      .trimEnd();
  const out = [
    p.bold(`cnidoctor fleet report`),
    verdictLine(report),
    "",
    line(titles, (_i, t) => p.bold(t)),
    ...rows.map((r, ri) => line(cells[ri] ?? [], (i, t) => (i === 0 ? p.status(r.worst, t) : t))),
    "",
    "A/R/U: nodes affected / at risk / unknown. Details per cluster: -o html, -o markdown or -o json.",
  ];
  return `${out.join("\n")}\n`;
}

function mdCell(text: string): string {
  return text.replace(/\s*\n\s*/g, " ").replace(/\|/g, "\\|");
}

/**
 * Each cluster's anchor in the Markdown and HTML pages: its name made URL-safe, with a number
 * added where two names come out the same ("a.b" and "a-b").
 */
export function anchorsOf(report: FleetReport): Map<string, string> {
  const out = new Map<string, string>();
  const used = new Set<string>();
  for (const c of report.clusters) {
    const base = `cluster-${c.context.toLowerCase().replace(/[^a-z0-9_-]+/g, "-")}`;
    let anchor = base;
    for (let n = 2; used.has(anchor); n++) anchor = `${base}-${n}`;
    used.add(anchor);
    out.set(c.context, anchor);
  }
  return out;
}

/** A cluster's own Markdown report one heading level down, to sit under the fleet's heading. */
function clusterMarkdown(report: Report): string {
  return renderMarkdown(report).replace(/^(#{1,5}) /gm, "#$1 ");
}

export function renderFleetMarkdown(report: FleetReport): string {
  const ids = advisoryIds(report);
  const anchors = anchorsOf(report);
  const anchorOf = (context: string): string => anchors.get(context) ?? "";
  const row = (values: string[]): string => `| ${values.map(mdCell).join(" | ")} |`;
  const titles = [
    "Cluster",
    "Distribution",
    "Plugin",
    "Rancher",
    ...ids.map((id) => `${id} A/R/U`),
    "First step",
  ];
  const lines = [
    "# cnidoctor fleet report",
    "",
    `${verdictLine(report)}. Generated ${report.generatedAt} by ${report.tool.name} ${report.tool.version}.`,
    "",
    row(titles),
    `|${titles.map(() => "---").join("|")}|`,
    ...report.clusters.map((c) => {
      const cells = cellsOf(rowOf(c, ids));
      cells[0] = `[${mdCell(c.context)}](#${anchorOf(c.context)})`;
      return row(cells);
    }),
    "",
    "A/R/U: nodes affected / at risk / unknown.",
  ];
  for (const c of report.clusters) {
    lines.push("", `<a id="${anchorOf(c.context)}"></a>`, "");
    // A scanned cluster's own report brings its heading ("cnidoctor report: NAME").
    const markdown = detailText(c);
    if (markdown !== undefined) lines.push(markdown.trimEnd());
    else lines.push(`## ${c.context}`, "");
    if (markdown === undefined)
      lines.push(
        c.gap !== undefined
          ? `Not scanned (${c.gap.reason}): ${c.gap.message}`
          : "Not finished: interrupted.",
      );
  }
  return `${lines.join("\n")}\n`;
}

/** A cluster's HTML section body, made while its Report is at hand. */
function clusterHtml(report: Report): string {
  return `<p class="meta">${escapeHtml(targetLine(report))}</p>
${reportSections(report)}`;
}

export function renderFleetHtml(report: FleetReport): string {
  const ids = advisoryIds(report);
  const anchors = anchorsOf(report);
  const anchorOf = (context: string): string => anchors.get(context) ?? "";
  const th = headers(ids)
    .map((h) => `<th>${escapeHtml(h)}</th>`)
    .join("");
  const rows = report.clusters.map((c) => {
    const cells = cellsOf(rowOf(c, ids)).map((v) => `<td>${escapeHtml(v)}</td>`);
    cells[0] = `<td><a href="#${anchorOf(c.context)}">${escapeHtml(c.context)}</a></td>`;
    return `<tr>${cells.join("")}</tr>`;
  });
  const sections = report.clusters.map((c) => {
    const body =
      detailText(c) ??
      `<p class="hot">${escapeHtml(c.gap !== undefined ? `Not scanned (${c.gap.reason}): ${c.gap.message}` : "Not finished: interrupted.")}</p>`;
    return `<section id="${anchorOf(c.context)}">
<h2>${escapeHtml(c.context)}</h2>
${body}
</section>`;
  });
  return htmlPage(
    "cnidoctor fleet report",
    `<h1>cnidoctor fleet report</h1>
<p class="meta">${escapeHtml(verdictLine(report))} · generated ${escapeHtml(report.generatedAt)} by ${escapeHtml(report.tool.name)} ${escapeHtml(report.tool.version)}</p>
<h2>Clusters</h2>
<table><thead><tr>${th}</tr></thead><tbody>${rows.join("")}</tbody></table>
<p class="legend">A/R/U: nodes affected / at risk / unknown.</p>
${sections.join("\n")}`,
  );
}
