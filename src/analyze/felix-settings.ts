// Resolves a Felix setting the way Felix does: env FELIX_<FIELD> on the calico-node container beats
// FelixConfiguration node.<name>, which beats FelixConfiguration default, which beats Felix's own
// default. Returns where the winning value came from, and whether it had to be assumed because the
// FelixConfiguration objects could not be read. A value Felix cannot parse is not skipped: Felix
// logs "Replacing invalid value with default" and uses its own default, so that is what we report.

import type { ContainerFacts, FelixConfigurationFacts } from "../model/snapshot.js";

export interface ResolvedSetting {
  /** Undefined when the winning source holds something that is not a boolean. */
  value: boolean | undefined;
  /** Where the value came from, for the evidence chain. */
  source: string;
  /** True when FelixConfiguration could not be read and nothing above it decided. */
  assumed: boolean;
  /** What the winning source literally said, when Felix rejects it as a boolean. */
  raw?: string;
  /** True when the winning source held a value Felix rejects, so Felix's default applies. */
  invalid?: boolean;
}

export function envName(field: string): string {
  return `FELIX_${field.toUpperCase()}`;
}

// Felix's BoolParam: exactly these spellings, case-insensitive, with no trimming. "on", "off",
// " true" and "" are all invalid to Felix.
const FELIX_TRUE = new Set(["true", "1", "yes", "y", "t"]);
const FELIX_FALSE = new Set(["false", "0", "no", "n", "f"]);

/** Parses a boolean the way Felix does; undefined for anything Felix would reject. */
export function parseFelixBool(raw: string): boolean | undefined {
  const v = raw.toLowerCase();
  if (FELIX_TRUE.has(v)) return true;
  if (FELIX_FALSE.has(v)) return false;
  return undefined;
}

function invalidValue(where: string, shown: string, felixDefault: boolean): ResolvedSetting {
  return {
    value: felixDefault,
    source: `${where}=${shown} is not a boolean Felix accepts (true/1/yes/y/t, false/0/no/n/f), so Felix replaces it with its default ${String(felixDefault)}`,
    assumed: false,
    raw: shown,
    invalid: true,
  };
}

function fromEnv(
  field: string,
  felixDefault: boolean,
  container: ContainerFacts | undefined,
): ResolvedSetting | undefined {
  if (!container) return undefined;
  const name = envName(field);
  // Env var names are case-sensitive in Kubernetes, but Felix upper-cases its keys; match that.
  const key = Object.keys(container.env).find((k) => k.toUpperCase() === name);
  if (key === undefined) return undefined;
  const fact = container.env[key];
  if (!fact) return undefined;
  const where = `${fact.from.ref} env ${key}`;
  if (fact.value === undefined)
    return { value: undefined, source: `${where} (valueFrom, not resolvable offline)`, assumed: false };
  const value = parseFelixBool(fact.value);
  if (value === undefined) return invalidValue(where, JSON.stringify(fact.value), felixDefault);
  return { value, source: `${where}=${fact.value}`, assumed: false };
}

function fromConfig(
  field: string,
  felixDefault: boolean,
  config: FelixConfigurationFacts | undefined,
): ResolvedSetting | undefined {
  if (!config) return undefined;
  const raw = config.spec[field];
  if (raw === undefined || raw === null) return undefined;
  // JSON keeps a quoted "true" distinguishable from the boolean true in the evidence.
  const shown = JSON.stringify(raw);
  const where = `FelixConfiguration ${config.name} spec.${field}`;
  if (typeof raw === "boolean")
    return { value: raw, source: `${where}=${shown} (${config.from.ref})`, assumed: false };
  // The API server's schema only admits a boolean; a string here comes from a hand-made bundle.
  // Felix would read it through the same boolean parser as an env var.
  const value = typeof raw === "string" ? parseFelixBool(raw) : undefined;
  if (value === undefined) return invalidValue(`${where} (${config.from.ref})`, shown, felixDefault);
  return { value, source: `${where}=${shown} (${config.from.ref})`, assumed: false };
}

export function resolveFelixSetting(args: {
  field: string;
  felixDefault: boolean;
  node: string;
  container: ContainerFacts | undefined;
  configs: FelixConfigurationFacts[] | undefined;
}): ResolvedSetting {
  const env = fromEnv(args.field, args.felixDefault, args.container);
  if (env) return env;
  if (args.configs === undefined) {
    return {
      value: args.felixDefault,
      source: `Felix default ${String(args.felixDefault)} (assumed: FelixConfiguration objects were not available)`,
      assumed: true,
    };
  }
  const perNode = fromConfig(
    args.field,
    args.felixDefault,
    args.configs.find((c) => c.name === `node.${args.node}`),
  );
  if (perNode) return perNode;
  const global = fromConfig(
    args.field,
    args.felixDefault,
    args.configs.find((c) => c.name === "default"),
  );
  if (global) return global;
  return {
    value: args.felixDefault,
    source: `Felix default ${String(args.felixDefault)} (not set by env or FelixConfiguration)`,
    assumed: false,
  };
}
