// Report writers, one module per format, all fed the same finished Report. The registry is an
// explicit map: adding a format means adding a module and one entry here.

import type { Report } from "../model/finding.js";
import { renderHtml } from "./html.js";
import { jsonChunks, renderJson } from "./json.js";
import { renderMarkdown } from "./markdown.js";
import { renderTable } from "./table.js";
import { renderYaml } from "./yaml.js";

export type ReportFormat = "table" | "json" | "yaml" | "markdown" | "html";

export interface RenderOptions {
  /** ANSI colour; only the table writer uses it, and only when true. */
  color: boolean;
}

export type Writer = (report: Report, options: RenderOptions) => string;

export const WRITERS: Readonly<Record<ReportFormat, Writer>> = {
  table: renderTable,
  json: (report) => renderJson(report),
  yaml: (report) => renderYaml(report),
  markdown: (report) => renderMarkdown(report),
  html: (report) => renderHtml(report),
};

export const REPORT_FORMATS = Object.keys(WRITERS) as ReportFormat[];

export function renderReport(report: Report, format: ReportFormat, options: RenderOptions): string {
  return WRITERS[format](report, options);
}

/** Text, or for JSON the same text in pieces (see jsonChunks), for writing out as it is made. */
export function renderReportOutput(
  report: Report,
  format: ReportFormat,
  options: RenderOptions,
): string | Iterable<string> {
  return format === "json" ? jsonChunks(report) : renderReport(report, format, options);
}
