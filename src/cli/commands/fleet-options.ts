// Which clusters a fleet command reads: the fleet selectors (--all-contexts, --contexts,
// --context-pattern) over the merged kubeconfig, or a --bundle directory of bundle directories.
// Light on purpose (flags and a directory listing): scan's lean entry reads it on every run and
// loads the fleet engine only when there is a fleet.

import { readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { UsageError } from "../../errors.js";
import type { ContextSelector } from "../../kube/merge.js";
import { flagValue } from "../flag-access.js";
import type { ParsedArgs } from "../parse-flags.js";

const SELECTORS = ["all-contexts", "contexts", "context-pattern"] as const;

/** The fleet selector given, checked against the flags it excludes; undefined: not a fleet. */
export function fleetSelector(args: ParsedArgs): ContextSelector | undefined {
  const given = SELECTORS.filter((n) => args.given?.has(n) === true);
  if (given.length === 0) return undefined;
  const cmd = args.command;
  if (given.length > 1)
    throw new UsageError(
      `${cmd}: --${given[0] ?? ""} and --${given[1] ?? ""} both choose the fleet: give one`,
    );
  const flag = given[0] ?? "all-contexts";
  if (flagValue(args, "context") !== undefined)
    throw new UsageError(`${cmd}: --${flag} chooses several contexts and --context one: give one of them`);
  if (args.given?.has("bundle") === true)
    throw new UsageError(
      `${cmd}: --${flag} reads live clusters; a fleet of bundles is --bundle DIR with one bundle directory per cluster`,
    );
  if (flag === "all-contexts") {
    if (!flagValue(args, "all-contexts")) return undefined;
    return { all: true };
  }
  if (flag === "contexts") {
    const names = (flagValue(args, "contexts") ?? []).map((n) => n.trim()).filter((n) => n !== "");
    if (names.length === 0) throw new UsageError(`${cmd}: --contexts needs at least one context name`);
    return { names };
  }
  const pattern = flagValue(args, "context-pattern") ?? "";
  if (pattern === "") throw new UsageError(`${cmd}: --context-pattern needs a glob (e.g. 'prod-*')`);
  return { pattern };
}

async function isDir(path: string): Promise<boolean> {
  return stat(path).then(
    (s) => s.isDirectory(),
    () => false,
  );
}

/** A bundle's own files: a cluster-info dump has nodes.json (or .yaml) at its top. */
async function isBundle(dir: string): Promise<boolean> {
  const names = await readdir(dir).catch(() => [] as string[]);
  return names.includes("nodes.json") || names.includes("nodes.yaml");
}

/**
 * The bundle directories of a fleet directory, sorted by name; undefined when `dir` is a bundle
 * itself (or holds no bundle directory, so the single-bundle reader reports what is wrong with it).
 */
export async function bundleFleet(dir: string): Promise<{ name: string; dir: string }[] | undefined> {
  if (!(await isDir(dir)) || (await isBundle(dir))) return undefined;
  const names = (await readdir(dir)).sort();
  const out: { name: string; dir: string }[] = [];
  for (const name of names) {
    const sub = join(dir, name);
    if ((await isDir(sub)) && (await isBundle(sub))) out.push({ name, dir: sub });
  }
  return out.length > 0 ? out : undefined;
}

/** --clusters-concurrency means nothing for one cluster: given there, it is a mistake worth saying. */
export function refuseFleetFlagsForOneCluster(args: ParsedArgs): void {
  if (args.given?.has("clusters-concurrency") === true)
    throw new UsageError(
      `${args.command}: --clusters-concurrency applies to a fleet (--all-contexts, --contexts, --context-pattern or --bundle DIR of bundles)`,
    );
}
