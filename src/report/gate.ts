// Renders `cnidoctor check` answers. Writers read the typed GateAnswer fields; nothing here parses
// a sentence back.

import { stringify as toYaml } from "yaml";
import type { GateAnswer, GateComponent } from "../versions/gate.js";
import { ecosystemWords } from "../versions/component.js";
import type { UpgradeWarningAnswer } from "../versions/upgrade-warnings.js";

export type GateFormat = "table" | "json" | "yaml" | "markdown";

export interface GateDocument {
  /** The version of this document's JSON/YAML layout, as the scan report has one. */
  schemaVersion: 1;
  kind: "check";
  tool: { name: string; version: string };
  /** The KDM file or URL that extended the shipped tables, and where it won over them. */
  kdm?: { origin: string; overrides: string[] };
  answers: GateAnswer[];
  /** With --upgrade-from: upgrades that lose a protective default (absent without it). */
  warnings?: UpgradeWarningAnswer[];
}

function subject(a: GateAnswer): string {
  const q = a.query;
  const variant = q.variant !== undefined ? ` (${q.variant})` : "";
  return `${q.kind} ${q.version}${variant}`;
}

function release(c: GateComponent): string {
  return `${ecosystemWords(c.ecosystem).product} ${c.version}`;
}

/** "canal_flannel rancher/mirrored-flannel-flannel:v0.24.2 (flannel v0.24.2)": the image judged. */
function imageText(a: GateAnswer): string {
  const c = a.component;
  if (c?.image === undefined) return "";
  return `${c.imageKey !== undefined ? `${c.imageKey} ` : ""}${c.image} (${release(c)})`;
}

function fixedText(a: GateAnswer): string {
  if (a.fixed === undefined) {
    const none = a.noFixInLine;
    if (none === undefined) return "";
    const next = none.next !== undefined ? `; move to ${none.next.line} or later (${none.next.version})` : "";
    return `none in ${none.line}${next}`;
  }
  const calico = a.fixed.calicoVersion !== "" ? ` (Calico ${a.fixed.calicoVersion})` : "";
  const component = a.fixed.component !== undefined ? ` (${release(a.fixed.component)})` : "";
  const by = a.fixed.offeredBy !== undefined ? `, offered by ${a.fixed.offeredBy}` : "";
  return `${a.fixed.version}${calico}${component}${by}`;
}

function offeredLines(a: GateAnswer): string[] {
  return (a.offered ?? []).map(
    (o) =>
      `${o.distribution}: affected ${o.affected.join(", ") || "none"}; fixed ${o.fixed.join(", ") || "none"}`,
  );
}

function table(doc: GateDocument): string {
  const lines: string[] = [];
  for (const a of doc.answers) {
    lines.push(
      `${a.verdict.toUpperCase().padEnd(13)} ${subject(a)}  [${a.advisoryId}]${a.unverified === true ? " (unverified)" : ""}`,
    );
    lines.push(`  ${a.reason}`);
    const image = imageText(a);
    if (image !== "") lines.push(`  image: ${image}`);
    if (a.unmetConditions.length > 0) lines.push(`  exposed only if: ${a.unmetConditions.join(", ")}`);
    const fixed = fixedText(a);
    if (fixed !== "") lines.push(`  smallest fixed: ${fixed}`);
    for (const o of offeredLines(a)) lines.push(`  offers ${o}`);
    if (a.sources.length > 0) lines.push(`  sources: ${a.sources.join("; ")}`);
  }
  for (const w of doc.warnings ?? []) {
    lines.push(`${"UPGRADE".padEnd(13)} calico ${w.from} -> ${w.to}  [${w.advisoryId}]`);
    lines.push(`  ${w.message}`);
    if (w.when !== undefined) lines.push(`  applies if: ${w.when}`);
  }
  if (doc.kdm !== undefined) {
    lines.push(`KDM: ${doc.kdm.origin}`);
    for (const o of doc.kdm.overrides) lines.push(`  file wins: ${o}`);
  }
  return `${lines.join("\n")}\n`;
}

function cell(text: string): string {
  return text.replace(/\|/g, "\\|").replace(/\n/g, " ");
}

function markdown(doc: GateDocument): string {
  const rows = doc.answers.map(
    (a) =>
      `| ${cell(subject(a))}${imageText(a) !== "" ? cell(` — ${imageText(a)}`) : ""} | ${a.advisoryId} | ${a.verdict}${a.unverified === true ? " (unverified)" : ""} | ${cell(a.reason)} | ${cell(fixedText(a))} | ${cell(a.sources.join("; "))} |`,
  );
  const kdm =
    doc.kdm === undefined
      ? []
      : ["", `KDM: ${doc.kdm.origin}`, ...doc.kdm.overrides.map((o) => `- file wins: ${o}`)];
  const warnings = (doc.warnings ?? []).map(
    (w) => `- upgrade calico ${w.from} -> ${w.to} [${w.advisoryId}]: ${cell(w.message)}`,
  );
  return `${[
    "| checked | advisory | verdict | reason | smallest fixed | sources |",
    "|---|---|---|---|---|---|",
    ...rows,
    ...(warnings.length > 0 ? ["", ...warnings] : []),
    ...kdm,
  ].join("\n")}\n`;
}

export function renderGate(doc: GateDocument, format: GateFormat): string {
  if (format === "json") return `${JSON.stringify(doc, null, 2)}\n`;
  if (format === "yaml") return toYaml(doc);
  if (format === "markdown") return markdown(doc);
  return table(doc);
}
