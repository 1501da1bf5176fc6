// --kdm, --kdm-cache and --kdm-timeout: the version tables a command uses. Without --kdm they are
// the shipped ones; nothing is fetched unless asked.

import { InputError } from "../../errors.js";
import { advisoryClassifier } from "../../versions/gate.js";
import { extendTables, parseKdm, readKdmSource } from "../../versions/kdm.js";
import { defaultVersionTables, type VersionTables } from "../../versions/tables.js";
import type { ParsedArgs } from "../args.js";
import { parseDuration } from "./live-options.js";
import { advisoriesFor } from "./shared.js";

export async function tablesFor(args: ParsedArgs): Promise<VersionTables> {
  const source = typeof args.flags.kdm === "string" ? args.flags.kdm.trim() : "";
  if (source === "") return defaultVersionTables();
  const timeout = typeof args.flags["kdm-timeout"] === "string" ? args.flags["kdm-timeout"] : "30s";
  const seconds = parseDuration(timeout, "kdm-timeout");
  const cache = typeof args.flags["kdm-cache"] === "string" ? args.flags["kdm-cache"] : undefined;
  const text = await readKdmSource(source, {
    timeoutMs: Math.max(1, seconds * 1000),
    ...(cache !== undefined ? { cachePath: cache } : {}),
  });
  const kdm = parseKdm(`--kdm ${source}`, text);
  if (Object.keys(kdm.rke1).length === 0 && kdm.rke2.length === 0)
    throw new InputError(`--kdm ${source}`, "holds no RKE1 system images and no RKE2 releases");
  return extendTables(defaultVersionTables(), kdm, advisoryClassifier(await advisoriesFor(args)));
}
