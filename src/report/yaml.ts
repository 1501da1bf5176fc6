// YAML writer: the same canonical data as the JSON writer, through the `yaml` package.

import { stringify } from "yaml";
import type { Report } from "../model/finding.js";
import { canonicalReport } from "./canonical.js";

export function renderYaml(report: Report): string {
  // lineWidth 0: never fold long evidence lines, so they stay greppable.
  return stringify(canonicalReport(report), { lineWidth: 0, aliasDuplicateObjects: false });
}
