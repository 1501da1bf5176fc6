// JSON writer: the canonical report (fixed key order, [] never null), 2-space indent, trailing newline.

import type { Report } from "../model/finding.js";
import { canonicalReport } from "./canonical.js";

export function renderJson(report: Report): string {
  return `${JSON.stringify(canonicalReport(report), null, 2)}\n`;
}
