// `cnidoctor check`: the version gate. Answers for versions the user is about to run, without a
// cluster; exit 3 when anything checked is affected (as scan), so CI can gate an upgrade on it.

import { readInputOrStdin } from "../../io/open-input.js";
import { parse as parseYaml } from "yaml";
import { InputError, UsageError } from "../../errors.js";
import { parseRkeClusterConfig } from "../../collect/bundle/rke-config.js";
import { renderGate, type GateDocument } from "../../report/gate.js";
import { checkVersions, gateExitCode, type GateAnswer, type GateQuery } from "../../versions/gate.js";
import { upgradeWarnings, type UpgradeWarningAnswer } from "../../versions/upgrade-warnings.js";
import type { Advisory } from "../../model/advisory.js";
import { tablesFor } from "./kdm-options.js";
import type { ParsedArgs } from "../parse-flags.js";
import { toolVersion } from "../version.js";
import { advisoriesFor, textOutputFormat } from "./shared.js";
import { flagValue } from "../flag-access.js";
import { choices } from "../flags.js";
import type { Command, CommandResult } from "./types.js";

function list(
  args: ParsedArgs,
  name: "calico" | "flannel" | "rke1" | "rke2" | "rancher" | "rke-cli",
): string[] {
  return flagValue(args, name) ?? [];
}

/** The RKE2 CNIs whose charts the gate answers for. */
type Rke2Cni = "calico" | "canal" | "flannel";

/**
 * The CNI an RKE2 config.yaml selects: `cni: calico`, `cni: [multus, calico]` or "multus,calico";
 * canal when unset (RKE2's default); undefined for a CNI the gate has no data for.
 */
function rke2ConfigCni(value: unknown): { cni?: Rke2Cni; named: string } {
  const names = (Array.isArray(value) ? value : typeof value === "string" ? value.split(",") : [])
    .filter((v): v is string => typeof v === "string")
    .map((v) => v.trim().toLowerCase())
    .filter((v) => v !== "" && v !== "multus");
  if (value === undefined || value === null) return { cni: "canal", named: "canal (RKE2's default)" };
  const found = names.find((n) => n === "calico" || n === "canal" || n === "flannel");
  return found === "calico" || found === "canal" || found === "flannel"
    ? { cni: found, named: found }
    : { named: names.length > 0 ? names.join(",") : JSON.stringify(value) };
}

interface ConfigQueries {
  queries: GateQuery[];
  /** An RKE2 config.yaml that names no release: the CNI it selects, for the --rke2 versions. */
  rke2Cni?: Rke2Cni;
}

/** An RKE cluster.yml (kubernetes_version, network.plugin, a pinned calico/canal node image) or an RKE2 config.yaml. */
async function queriesFromConfig(given: string, rke2Given: boolean): Promise<ConfigQueries> {
  // `-` is stdin; a FIFO, device or directory is refused before it is opened (it would block).
  const path = given === "-" ? "<stdin>" : given;
  let text: string;
  try {
    text = await readInputOrStdin(given, "rke-config");
  } catch (e) {
    if (e instanceof InputError) throw e;
    throw new InputError(
      path,
      (e as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : "cannot be read",
    );
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch {
    throw new InputError(path, "malformed YAML");
  }
  const root =
    typeof doc === "object" && doc !== null && !Array.isArray(doc) ? (doc as Record<string, unknown>) : {};
  // An RKE2 config.yaml pins the CNI but not the release; INSTALL_RKE2_VERSION lives outside it.
  if (
    !("kubernetes_version" in root) &&
    !("rancher_kubernetes_engine_config" in root) &&
    !("nodes" in root)
  ) {
    const { cni, named } = rke2ConfigCni(root.cni);
    if (cni === undefined)
      throw new InputError(path, `selects CNI '${named}', not Calico, Canal or flannel: nothing to check`);
    const release = root["rke2-version"] ?? root.version;
    if (typeof release === "string")
      return { queries: [{ kind: "rke2", version: release, variant: cni, origin: `${path} cni ${named}` }] };
    if (rke2Given) return { queries: [], rke2Cni: cni };
    throw new InputError(path, "pins no version: give --rke2 VERSION with this RKE2 config.yaml");
  }
  const config = parseRkeClusterConfig(path, text);
  if ("problem" in config) throw new InputError(path, config.problem);
  const plugin = config.networkPlugin === "calico" ? "calico" : "canal";
  const out: GateQuery[] = [];
  if (config.kubernetesVersion !== undefined)
    out.push({
      kind: "rke1",
      version: config.kubernetesVersion,
      variant: plugin,
      origin: `${path} kubernetes_version`,
    });
  const pinned = config.systemImages[`${plugin}_node`];
  const tag = pinned?.split(":").pop();
  if (tag !== undefined && pinned !== undefined && pinned.includes(":"))
    out.push({ kind: "calico", version: tag, origin: `${path} system_images.${plugin}_node` });
  if (out.length === 0)
    throw new InputError(path, "sets neither kubernetes_version nor a calico/canal node image");
  return { queries: out };
}

/** An upgrade that loses a protection is a finding for a gate in CI, like an affected version. */
function checkExitCode(answers: GateAnswer[], warnings: UpgradeWarningAnswer[] | undefined): 0 | 3 | 4 {
  const exit = gateExitCode(answers);
  return (warnings ?? []).length > 0 && exit === 0 ? 3 : exit;
}

/**
 * --upgrade-from: warnings for the Calico versions asked for and those the releases asked for
 * carry; undefined without the flag.
 */
function upgradeFor(
  args: ParsedArgs,
  answers: readonly GateAnswer[],
  advisories: readonly Advisory[],
): UpgradeWarningAnswer[] | undefined {
  const from = flagValue(args, "upgrade-from")?.trim();
  if (from === undefined || from === "") return undefined;
  const carried = answers.flatMap((a) =>
    a.query.kind !== "calico" && a.calicoVersion !== undefined ? [a.calicoVersion] : [],
  );
  return upgradeWarnings(advisories, from, [...new Set([...list(args, "calico"), ...carried])]);
}

async function check(args: ParsedArgs): Promise<CommandResult> {
  if (args.positionals.length > 0)
    throw new UsageError(`check: unexpected argument '${args.positionals[0] ?? ""}'`);
  const fmt = textOutputFormat(args);
  const plugin = flagValue(args, "plugin");
  const rkeConfig = flagValue(args, "rke-config")?.trim();
  const configPath = rkeConfig !== "" ? rkeConfig : undefined;
  const fromConfig =
    configPath === undefined ? undefined : await queriesFromConfig(configPath, list(args, "rke2").length > 0);
  // --cni wins; else the CNI an RKE2 config.yaml selects; else RKE2's default, canal.
  const cni = flagValue(args, "cni") ?? fromConfig?.rke2Cni ?? "canal";
  const cniOrigin =
    flagValue(args, "cni") === undefined && fromConfig?.rke2Cni !== undefined
      ? { origin: `${configPath ?? ""} cni ${fromConfig.rke2Cni}` }
      : {};
  const queries: GateQuery[] = [
    ...list(args, "calico").map((version): GateQuery => ({ kind: "calico", version })),
    ...list(args, "flannel").map((version): GateQuery => ({ kind: "flannel", version })),
    ...list(args, "rke1").map((version): GateQuery => ({ kind: "rke1", version, variant: plugin })),
    ...list(args, "rke2").map((version): GateQuery => ({
      kind: "rke2",
      version,
      variant: cni,
      ...cniOrigin,
    })),
    ...list(args, "rancher").map((version): GateQuery => ({ kind: "rancher", version })),
    ...list(args, "rke-cli").map((version): GateQuery => ({ kind: "rke-cli", version })),
    ...(fromConfig?.queries ?? []),
  ];
  if (queries.length === 0)
    throw new UsageError(
      "check: give at least one of --calico, --flannel, --rke1, --rke2, --rancher, --rke-cli, --rke-config",
    );
  const tables = await tablesFor(args);
  const advisories = await advisoriesFor(args);
  const rancher = list(args, "rancher")[0];
  const rkeCli = list(args, "rke-cli")[0];
  const answers = checkVersions(queries, advisories, tables, {
    ...(rancher !== undefined ? { rancher } : {}),
    ...(rkeCli !== undefined ? { rkeCli } : {}),
  });
  const warnings = upgradeFor(args, answers, advisories);
  const doc: GateDocument = {
    schemaVersion: 1,
    kind: "check",
    tool: { name: "cnidoctor", version: toolVersion() },
    ...(tables.kdmOrigin !== undefined
      ? { kdm: { origin: tables.kdmOrigin, overrides: tables.kdmOverrides ?? [] } }
      : {}),
    answers,
    ...(warnings !== undefined ? { warnings } : {}),
  };
  return { stdout: renderGate(doc, fmt), exitCode: checkExitCode(answers, warnings) };
}

export const checkCommand: Command = {
  name: "check",
  usage: `cnidoctor check [--calico V] [--flannel V] [--rke1 V [--plugin ${choices("plugin", "check")}]] [--rke2 V [--cni ${choices("cni", "check")}]] [--rancher V] [--rke-cli V] [--rke-config FILE] [--upgrade-from V] [--kdm FILE|URL] [-o ${choices("output", "check")}]`,
  summary:
    "Version gate: is a Calico, flannel, RKE1, RKE2, Rancher or RKE CLI version affected, and what is the smallest fixed alternative? No cluster needed; exit 3 when affected.",
  examples: [
    "cnidoctor check --rke2 v1.30.2+rke2r1 --cni calico --rancher v2.10.0",
    "cnidoctor check --rke1 v1.30.3-rancher1-1 --rke-cli v1.6.1",
    "cnidoctor check --rke2 v1.28.8+rke2r1 --cni canal",
    "cnidoctor check --flannel v0.24.3",
    "cnidoctor check --rke-config cluster.yml -o json",
    "cnidoctor check --rke2 v1.31.9+rke2r1 --kdm ./data.json",
    "cnidoctor check --upgrade-from v3.28.1 --calico v3.29.2",
  ],
  run: check,
};
