// Resolves one Felix feature-detection flag (a key of featureDetectOverride) the way Felix does:
// the featureDetectOverride parameter from the highest source that sets it (env
// FELIX_FEATUREDETECTOVERRIDE, FelixConfiguration node.<name>, FelixConfiguration default) decides
// when it names the flag; otherwise Felix detects the flag itself, and what it detects depends on
// the Calico version and the kernel, as the advisory's `defaults` table says.

import type { FeatureDefault } from "../model/advisory.js";
import type { ContainerFacts, FelixConfigurationFacts } from "../model/snapshot.js";
import { parseTriple } from "../advisories/ranges.js";

export interface ResolvedFeature {
  value: boolean | undefined;
  source: string;
  /** FelixConfiguration was not read, so an override there could not be ruled out. */
  assumed: boolean;
  /** Set when the value came from Felix's version- and kernel-dependent default. */
  fromDefault?: boolean;
}

const OVERRIDE_FIELD = "featureDetectOverride";
const OVERRIDE_ENV = "FELIX_FEATUREDETECTOVERRIDE";

/** "A=true,B=false" as Felix's keyValueList reads it; undefined for the flag when it is not named. */
export function overrideValue(raw: string, feature: string): boolean | "other" | undefined {
  for (const part of raw.split(",")) {
    const [k, v] = part.split("=", 2).map((x) => x.trim());
    if (k !== feature) continue;
    if (v === "true") return true;
    if (v === "false") return false;
    return "other";
  }
  return undefined;
}

function kernelTriple(kernel: string | undefined): [number, number, number] | undefined {
  const t = kernel !== undefined ? parseTriple(kernel) : undefined;
  return t ? [t.major, t.minor, t.patch] : undefined;
}

function cmp(a: [number, number, number], b: [number, number, number]): number {
  return a[0] - b[0] || a[1] - b[1] || a[2] - b[2];
}

/** The row of the defaults table for a Calico version, if any. */
export function defaultRow(defaults: readonly FeatureDefault[], calico: string): FeatureDefault | undefined {
  const v = kernelTriple(calico);
  if (!v) return undefined;
  return defaults.find((d) => {
    const intro = kernelTriple(d.introduced);
    const fixed = d.fixed !== undefined ? kernelTriple(d.fixed) : undefined;
    return intro !== undefined && cmp(v, intro) >= 0 && (fixed === undefined || cmp(v, fixed) < 0);
  });
}

/** Felix's default for a version and kernel; a text when it cannot be computed. */
export function featureDefault(
  defaults: readonly FeatureDefault[],
  calico: string | undefined,
  kernel: string | undefined,
): { value: boolean; rule: string } | { missing: string } {
  if (calico === undefined) return { missing: "the Calico version is not known" };
  const row = defaultRow(defaults, calico);
  if (!row) return { missing: `the advisory has no default for Calico ${calico}` };
  const span = `${row.introduced}${row.fixed !== undefined ? ` to before ${row.fixed}` : " and later"}`;
  if (row.value !== undefined)
    return { value: row.value, rule: `always ${String(row.value)} in Calico ${span}` };
  const limit = row.kernelBelow ?? row.kernelAtMost;
  if (limit === undefined) return { missing: "the advisory's default row names no value" };
  const k = kernelTriple(kernel);
  const l = kernelTriple(limit);
  if (!k || !l) return { missing: `the node's kernel version is not known` };
  const c = cmp(k, l);
  const value = row.kernelBelow !== undefined ? c < 0 : c <= 0;
  const op = row.kernelBelow !== undefined ? "<" : "<=";
  return { value, rule: `in Calico ${span} true only when kernel ${op} ${limit}; kernel ${kernel ?? ""}` };
}

function envOverride(container: ContainerFacts | undefined): { raw?: string; where: string } | undefined {
  if (!container) return undefined;
  const key = Object.keys(container.env).find((k) => k.toUpperCase() === OVERRIDE_ENV);
  const fact = key !== undefined ? container.env[key] : undefined;
  if (!fact || key === undefined) return undefined;
  return { ...(fact.value !== undefined ? { raw: fact.value } : {}), where: `${fact.from.ref} env ${key}` };
}

function configOverride(
  config: FelixConfigurationFacts | undefined,
): { raw: string; where: string } | undefined {
  const raw = config?.spec[OVERRIDE_FIELD];
  if (config === undefined || typeof raw !== "string") return undefined;
  return { raw, where: `FelixConfiguration ${config.name} spec.${OVERRIDE_FIELD} (${config.from.ref})` };
}

export function resolveFelixFeature(args: {
  feature: string;
  defaults: readonly FeatureDefault[];
  node: string;
  container: ContainerFacts | undefined;
  configs: FelixConfigurationFacts[] | undefined;
  calicoVersion: string | undefined;
  kernel: string | undefined;
}): ResolvedFeature {
  const env = envOverride(args.container);
  const set =
    env ??
    (args.configs !== undefined
      ? (configOverride(args.configs.find((c) => c.name === `node.${args.node}`)) ??
        configOverride(args.configs.find((c) => c.name === "default")))
      : undefined);
  if (set !== undefined && set.raw === undefined)
    return { value: undefined, source: `${set.where} (valueFrom, not resolvable offline)`, assumed: false };
  if (set?.raw !== undefined) {
    const v = overrideValue(set.raw, args.feature);
    if (v === true || v === false)
      return { value: v, source: `${set.where}=${JSON.stringify(set.raw)}`, assumed: false };
    if (v === "other")
      return {
        value: undefined,
        source: `${set.where}=${JSON.stringify(set.raw)} gives ${args.feature} a value that is not true or false`,
        assumed: false,
      };
  }
  const assumed = set === undefined && args.configs === undefined;
  const notSet =
    set !== undefined
      ? `${set.where}=${JSON.stringify(set.raw)} does not name ${args.feature}`
      : assumed
        ? `no ${OVERRIDE_ENV} env, and FelixConfiguration objects were not available (assumed not set)`
        : `${OVERRIDE_FIELD} is not set by env or FelixConfiguration`;
  const d = featureDefault(args.defaults, args.calicoVersion, args.kernel);
  if ("missing" in d)
    return {
      value: undefined,
      source: `${notSet}; Felix's default cannot be worked out: ${d.missing}`,
      assumed,
    };
  return {
    value: d.value,
    source: `${notSet}; Felix default ${String(d.value)} (${d.rule})`,
    assumed,
    fromDefault: true,
  };
}
