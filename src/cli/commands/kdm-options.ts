// --kdm, --kdm-cache and --kdm-timeout: the version tables a command uses. Without --kdm they are
// the shipped ones; nothing is fetched unless asked.

import { InputError } from "../../errors.js";
import { advisoryClassifier } from "../../versions/gate.js";
import { extendTables, parseKdm, readKdmSource } from "../../versions/kdm.js";
import { defaultVersionTables, type VersionTables } from "../../versions/tables.js";
import type { ParsedArgs } from "../parse-flags.js";
import type { Fact } from "../../model/provenance.js";
import type { Snapshot } from "../../model/snapshot.js";
import { compareRancher } from "../../versions/rancher.js";
import { flagValue } from "../flag-access.js";
import { advisoriesFor } from "./shared.js";

export async function tablesFor(args: ParsedArgs): Promise<VersionTables> {
  const source = (flagValue(args, "kdm") ?? "").trim();
  if (source === "") return defaultVersionTables();
  const seconds = flagValue(args, "kdm-timeout");
  const cache = flagValue(args, "kdm-cache");
  const text = await readKdmSource(source, {
    timeoutMs: Math.max(1, seconds * 1000),
    ...(cache !== undefined ? { cachePath: cache } : {}),
  });
  const kdm = parseKdm(`--kdm ${source}`, text);
  if (Object.keys(kdm.rke1).length === 0 && kdm.rke2.length === 0)
    throw new InputError(`--kdm ${source}`, "holds no RKE1 system images and no RKE2 releases");
  return extendTables(defaultVersionTables(), kdm, advisoryClassifier(await advisoriesFor(args)));
}

/** What the report says about the KDM file: where it came from and where it overrode the tables. */
export function kdmNotes(tables: VersionTables): string[] {
  if (tables.kdmOrigin === undefined) return [];
  const overrides = tables.kdmOverrides ?? [];
  return [
    `Version tables extended by ${tables.kdmOrigin}; ${overrides.length === 0 ? "it agrees with the shipped tables where both have an entry" : `where it disagrees with the shipped tables the file wins (${overrides.length}): ${overrides.join("; ")}`}.`,
  ];
}

/** --rancher when given (it wins), else the Rancher version the cluster shows. */
export function rancherVersionFor(
  args: ParsedArgs,
  snapshot: Snapshot | undefined,
): Fact<string> | undefined {
  const flag = (flagValue(args, "rancher") ?? []).join(",");
  if (flag !== "") {
    if (compareRancher(flag, "v0.0.0") === undefined)
      throw new InputError("--rancher", `'${flag}' is not a Rancher version (expected e.g. v2.9.1)`);
    return { value: flag, from: { source: "flag", ref: `--rancher ${flag}` } };
  }
  return snapshot?.rancher?.version;
}
