// YAML writer: the same canonical data as the JSON writer, through the `yaml` package, which is
// loaded on first use (every other output format, and so almost every run, does without it).

import { createRequire } from "node:module";
import type { Report } from "../model/finding.js";
import { canonicalReport } from "./canonical.js";

type Stringify = (value: unknown, options: { lineWidth: number; aliasDuplicateObjects: boolean }) => string;

let stringify: Stringify | undefined;

export function renderYaml(report: Report): string {
  stringify ??= (createRequire(import.meta.url)("yaml") as { stringify: Stringify }).stringify;
  // lineWidth 0: never fold long evidence lines, so they stay greppable.
  return stringify(canonicalReport(report), { lineWidth: 0, aliasDuplicateObjects: false });
}
