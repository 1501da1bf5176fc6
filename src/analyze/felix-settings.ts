// Resolves a Felix setting the way Felix does: env FELIX_<FIELD> on the calico-node container beats
// FelixConfiguration node.<name>, which beats FelixConfiguration default, which beats Felix's own
// default. Returns where the winning value came from, and whether it had to be assumed because the
// FelixConfiguration objects could not be read.

import type { ContainerFacts, FelixConfigurationFacts } from "../model/snapshot.js";

export interface ResolvedSetting {
  /** Undefined when the winning source holds something that is not a boolean. */
  value: boolean | undefined;
  /** Where the value came from, for the evidence chain. */
  source: string;
  /** True when FelixConfiguration could not be read and nothing above it decided. */
  assumed: boolean;
  /** What the winning source literally said, when it was not a clean boolean. */
  raw?: string;
}

export function envName(field: string): string {
  return `FELIX_${field.toUpperCase()}`;
}

/** Felix accepts the usual spellings of booleans in env vars. */
export function parseFelixBool(raw: string): boolean | undefined {
  const v = raw.trim().toLowerCase();
  if (["true", "t", "1", "yes", "y", "on"].includes(v)) return true;
  if (["false", "f", "0", "no", "n", "off"].includes(v)) return false;
  return undefined;
}

function fromEnv(field: string, container: ContainerFacts | undefined): ResolvedSetting | undefined {
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
  return {
    value,
    source: `${where}=${fact.value}`,
    assumed: false,
    ...(value === undefined ? { raw: fact.value } : {}),
  };
}

function fromConfig(field: string, config: FelixConfigurationFacts | undefined): ResolvedSetting | undefined {
  if (!config) return undefined;
  const raw = config.spec[field];
  if (raw === undefined || raw === null) return undefined;
  // JSON keeps a quoted "true" distinguishable from the boolean true in the evidence.
  const shown = JSON.stringify(raw);
  const source = `FelixConfiguration ${config.name} spec.${field}=${shown} (${config.from.ref})`;
  if (typeof raw === "boolean") return { value: raw, source, assumed: false };
  return {
    value: typeof raw === "string" ? parseFelixBool(raw) : undefined,
    source,
    assumed: false,
    raw: shown,
  };
}

export function resolveFelixSetting(args: {
  field: string;
  felixDefault: boolean;
  node: string;
  container: ContainerFacts | undefined;
  configs: FelixConfigurationFacts[] | undefined;
}): ResolvedSetting {
  const env = fromEnv(args.field, args.container);
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
    args.configs.find((c) => c.name === `node.${args.node}`),
  );
  if (perNode) return perNode;
  const global = fromConfig(
    args.field,
    args.configs.find((c) => c.name === "default"),
  );
  if (global) return global;
  return {
    value: args.felixDefault,
    source: `Felix default ${String(args.felixDefault)} (not set by env or FelixConfiguration)`,
    assumed: false,
  };
}
