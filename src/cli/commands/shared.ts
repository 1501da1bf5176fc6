// What diagnosing commands share: choosing output and colour, loading advisories, and rendering a
// pipeline's report with its exit code.

import type { Advisory } from "../../model/advisory.js";
import type { Report } from "../../model/finding.js";
import { loadAdvisories, SHIPPED_ADVISORIES_DIR } from "../../advisories/load.js";
import { exitCodeFor } from "../../analyze/findings.js";
import { renderReportOutput } from "../../report/index.js";
import type { PipelineInput } from "../../pipeline.js";
import type { ParsedArgs } from "../parse-flags.js";
import type { OutputFormat } from "../flags.js";
import { flagValue } from "../flag-access.js";
import { toolVersion } from "../version.js";
import type { CommandResult, Runtime } from "./types.js";

export function useColor(args: ParsedArgs, rt: Runtime): boolean {
  if (flagValue(args, "no-color")) return false;
  if (flagValue(args, "color")) return true;
  return rt.isTTY && (rt.env.NO_COLOR ?? "") === "";
}

/** -o: one of the formats the table allows on this command (plan and check: no html). */
export function outputFormat(args: ParsedArgs): OutputFormat {
  return flagValue(args, "output");
}

/** -o for plan and check, whose entry in the flag table leaves html out (flagValue refuses it). */
export function textOutputFormat(args: ParsedArgs): Exclude<OutputFormat, "html"> {
  const format = outputFormat(args);
  if (format === "html") throw new Error(`${args.command}: the flag table allows -o html here`);
  return format;
}

export async function advisoriesFor(args: ParsedArgs): Promise<Advisory[]> {
  const dir = flagValue(args, "advisories") ?? SHIPPED_ADVISORIES_DIR;
  return loadAdvisories(dir);
}

/** The parts of a pipeline input every command fills the same way. */
export function pipelineBasics(rt: Runtime): Pick<PipelineInput, "tool" | "now" | "progress"> {
  return {
    tool: { name: "cnidoctor", version: toolVersion() },
    now: rt.now,
    ...(rt.progress !== undefined ? { progress: rt.progress } : {}),
  };
}

export function renderReport(report: Report, args: ParsedArgs, rt: Runtime): CommandResult {
  return {
    stdout: renderReportOutput(report, outputFormat(args), { color: useColor(args, rt) }),
    exitCode: exitCodeFor(report),
  };
}
