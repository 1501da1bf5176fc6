// Loads advisory files, validates them against the schema and the cross-field rules the schema
// cannot express (unique ids, file name = id, regexes that compile), and returns typed Advisories.
//
// The shipped advisories are validated at build time (scripts/build/advisory-cache.ts) into
// verified.json next to this module: a shipped file whose text (and the schema's) is byte for byte
// the one validated there is taken from it, which spares every command the YAML parse and the
// schema compile (~70 ms, and the agent's memory). Any other file, or a changed one, is validated.

import { readdir, readFile } from "node:fs/promises";
import { basename, extname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { ErrorObject } from "ajv";
import type { Advisory } from "../model/advisory.js";
import { InputError } from "../errors.js";
import { readInputText } from "../io/open-input.js";

const PACKAGE_ROOT = fileURLToPath(new URL("../../../", import.meta.url));
export const SHIPPED_ADVISORIES_DIR = join(PACKAGE_ROOT, "advisories");
const SCHEMA_PATH = join(SHIPPED_ADVISORIES_DIR, "advisory.schema.json");
export const VERIFIED_CACHE_PATH = fileURLToPath(new URL("./verified.json", import.meta.url));

/** verified.json: the shipped advisories as validated at build time. */
export interface VerifiedCache {
  schema: string;
  files: Record<string, { text: string; advisory: Advisory }>;
}

let validator: ((data: unknown) => boolean) & { errors?: ErrorObject[] | null } = Object.assign(
  () => false,
  {},
);
let validatorReady = false;

async function getValidator(): Promise<typeof validator> {
  if (!validatorReady) {
    const schema = JSON.parse(await readFile(SCHEMA_PATH, "utf8")) as object;
    const { Ajv } = await import("ajv");
    const ajv = new Ajv({ allErrors: true, strict: true, strictRequired: false, allowUnionTypes: true });
    validator = ajv.compile(schema);
    validatorReady = true;
  }
  return validator;
}

function describeSchemaError(error: ErrorObject): string {
  const at = error.instancePath === "" ? "(top level)" : error.instancePath;
  const extra =
    error.keyword === "additionalProperties"
      ? ` '${String((error.params as { additionalProperty?: string }).additionalProperty)}'`
      : error.keyword === "enum"
        ? ` (${((error.params as { allowedValues?: unknown[] }).allowedValues ?? []).join(", ")})`
        : "";
  return `${at} ${error.message ?? "is invalid"}${extra}`;
}

function checkRegex(file: string, where: string, source: string): void {
  try {
    new RegExp(source);
  } catch (e) {
    throw new InputError(file, `${where}: invalid regular expression: ${(e as Error).message}`);
  }
}

function checkUnique(file: string, what: string, ids: string[]): void {
  const seen = new Set<string>();
  for (const id of ids) {
    if (seen.has(id)) throw new InputError(file, `duplicate ${what} id '${id}'`);
    seen.add(id);
  }
}

/** A report column shows the typed fact of one condition, so it names a condition of the advisory. */
function checkPresentation(file: string, advisory: Advisory): void {
  for (const col of advisory.presentation?.columns ?? []) {
    const cond = advisory.conditions.find((c) => c.id === col.condition);
    if (cond === undefined)
      throw new InputError(
        file,
        `presentation.columns.${col.title}: '${col.condition}' is not a condition of this advisory`,
      );
  }
  for (const s of advisory.signatures) {
    if (s.seen !== undefined && s.role !== "symptom")
      throw new InputError(
        file,
        `signatures.${s.id}: only a symptom decides, so only a symptom has a 'seen' reason`,
      );
  }
}

type Need = (where: string, id: string, known: ReadonlySet<string>, what: string) => void;

function needer(file: string): Need {
  return (where, id, known, what) => {
    if (!known.has(id)) throw new InputError(file, `${where}: no ${what} '${id}' in this advisory`);
  };
}

/** Groups name existing conditions (not themselves), observed signatures exist, regexes compile. */
function checkConditionKinds(file: string, advisory: Advisory): void {
  const need = needer(file);
  const conditions = new Set(advisory.conditions.map((c) => c.id));
  const signatures = new Set(advisory.signatures.map((s) => s.id));
  for (const c of advisory.conditions) {
    if (c.kind === "all-of" || c.kind === "any-of") {
      if (c.of.includes(c.id))
        throw new InputError(file, `conditions.${c.id}: a group cannot contain itself`);
      for (const id of c.of) need(`conditions.${c.id}`, id, conditions, "condition");
    }
    if (c.kind === "felix-feature")
      for (const id of [...(c.observed?.true ?? []), ...(c.observed?.false ?? [])])
        need(`conditions.${c.id}.observed`, id, signatures, "signature");
    if ((c.kind === "object-field" || c.kind === "agent-fact") && c.pattern !== undefined)
      checkRegex(file, `conditions.${c.id}.pattern`, c.pattern);
  }
}

/** Verdict rules and upgrade warnings name only conditions that exist (of the right kind). */
function checkRuleRefs(file: string, advisory: Advisory): void {
  const need = needer(file);
  const conditions = new Set(advisory.conditions.map((c) => c.id));
  checkUnique(
    file,
    "verdict rule",
    (advisory.verdicts ?? []).map((r) => r.id),
  );
  for (const r of advisory.verdicts ?? []) {
    const ids = [r.holds, r.fails, r.undecided, r.anyHolds, r.missing].flatMap((x) => x ?? []);
    for (const id of ids) need(`verdicts.${r.id}`, id, conditions, "condition");
  }
  for (const w of advisory.upgradeWarnings ?? []) {
    const cond = advisory.conditions.find((c) => c.id === w.condition);
    if (cond?.kind !== "felix-feature")
      throw new InputError(
        file,
        `upgradeWarnings: '${w.condition}' is not a felix-feature condition of this advisory`,
      );
    if (w.when !== undefined) need("upgradeWarnings.when", w.when, conditions, "condition");
  }
}

/** Rules beyond the schema: things a reviewer would otherwise have to catch by eye. */
function checkSemantics(file: string, advisory: Advisory): void {
  checkConditionKinds(file, advisory);
  checkRuleRefs(file, advisory);
  checkUnique(
    file,
    "signature",
    advisory.signatures.map((s) => s.id),
  );
  checkUnique(
    file,
    "condition",
    advisory.conditions.map((c) => c.id),
  );
  checkUnique(
    file,
    "fingerprint",
    advisory.fingerprints.map((f) => f.id),
  );
  checkUnique(
    file,
    "remediation",
    advisory.remediations.map((r) => r.id),
  );
  for (const s of advisory.signatures) {
    const regexes = [s.header, ...(s.all ?? []), ...(s.any ?? []), ...(s.none ?? [])];
    regexes.forEach((r, i) => {
      if (r !== undefined) checkRegex(file, `signatures.${s.id} regex #${i}`, r);
    });
    if (s.role === "lookalike" && s.reference === undefined) {
      throw new InputError(
        file,
        `signatures.${s.id}: a lookalike needs a reference to the report it resembles`,
      );
    }
  }
  checkUnique(
    file,
    "combination",
    (advisory.combinations ?? []).map((c) => c.id),
  );
  const known = new Set(advisory.signatures.map((s) => s.id));
  for (const c of advisory.combinations ?? []) {
    for (const id of [...(c.seen.signatures ?? []), ...(c.notSeen?.signatures ?? [])]) {
      if (!known.has(id))
        throw new InputError(file, `combinations.${c.id}: no signature '${id}' in this advisory`);
    }
    // A combination decides "affected" on evidence no single signature settles: the report must
    // say what remains uncertain and what would settle it.
    if (c.status === "affected" && (c.doubt ?? "").trim() === "")
      throw new InputError(
        file,
        `combinations.${c.id}: an 'affected' combination needs a doubt note (what remains uncertain and what settles it)`,
      );
  }
  for (const c of advisory.conditions) {
    if (c.kind === "node-fact") checkRegex(file, `conditions.${c.id}.pattern`, c.pattern);
  }
  checkPresentation(file, advisory);
  // Something must be able to say "affected": a symptom line, or a status rule over the facts.
  if (
    !advisory.signatures.some((s) => s.role === "symptom") &&
    !(advisory.verdicts ?? []).some((r) => r.status === "affected")
  ) {
    throw new InputError(
      file,
      "an advisory needs at least one signature with role 'symptom' (or a verdicts rule with status 'affected')",
    );
  }
}

/** Parses and validates one advisory document. `file` is used in error messages only. */
export async function parseAdvisory(file: string, text: string): Promise<Advisory> {
  let data: unknown;
  const { parse: parseYaml, YAMLParseError } = await import("yaml");
  try {
    data = extname(file) === ".json" ? JSON.parse(text) : parseYaml(text, { prettyErrors: false });
  } catch (e) {
    const detail = e instanceof YAMLParseError ? e.message.split("\n")[0] : (e as Error).message;
    throw new InputError(file, `not valid ${extname(file) === ".json" ? "JSON" : "YAML"}: ${detail ?? ""}`);
  }
  const validate = await getValidator();
  if (!validate(data)) {
    const first = validate.errors?.[0];
    const more =
      (validate.errors?.length ?? 0) > 1 ? ` (and ${(validate.errors?.length ?? 1) - 1} more)` : "";
    throw new InputError(
      file,
      `does not match the advisory schema: ${first ? describeSchemaError(first) : "invalid"}${more}`,
    );
  }
  const advisory = data as Advisory;
  checkSemantics(file, advisory);
  return advisory;
}

/** Reads and validates one advisory file. */
export async function loadAdvisoryFile(path: string): Promise<Advisory> {
  return parseAdvisory(path, await readAdvisoryText(path));
}

async function readAdvisoryText(path: string): Promise<string> {
  let text: string;
  try {
    text = await readInputText(path, "advisory");
  } catch (e) {
    if (e instanceof InputError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw new InputError(
      path,
      code === "ENOENT"
        ? "no such file"
        : code === "EISDIR"
          ? "is a directory"
          : `cannot read (${code ?? "error"})`,
    );
  }
  return text;
}

/** The build-time validation of the shipped advisories, when it still applies to the files on disk. */
async function verifiedCache(dir: string): Promise<VerifiedCache | undefined> {
  if (resolve(dir) !== resolve(SHIPPED_ADVISORIES_DIR)) return undefined;
  try {
    const cache = JSON.parse(await readFile(VERIFIED_CACHE_PATH, "utf8")) as VerifiedCache;
    return cache.schema === (await readFile(SCHEMA_PATH, "utf8")) ? cache : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Loads every advisory in a directory (default: the ones shipped with cnidoctor), sorted by id.
 * `verified: false` validates every file even where the build-time cache would do.
 */
export async function loadAdvisories(
  dir: string = SHIPPED_ADVISORIES_DIR,
  options: { verified?: boolean } = {},
): Promise<Advisory[]> {
  let entries: string[];
  try {
    entries = await readdir(dir);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new InputError(
      dir,
      code === "ENOENT"
        ? "no such advisories directory"
        : code === "ENOTDIR"
          ? "not a directory"
          : `cannot be read (${code ?? "error"})`,
    );
  }
  const names = entries.filter((n) => /\.(ya?ml|json)$/.test(n) && !n.endsWith(".schema.json"));
  // No advisory loaded would report "No known issue matched" for anything: that is bad usage.
  if (names.length === 0) throw new InputError(dir, "holds no advisory files (*.yaml, *.yml, *.json)");
  const cache = options.verified === false ? undefined : await verifiedCache(dir);
  const advisories: Advisory[] = [];
  for (const name of names.sort()) {
    const path = join(dir, name);
    const text = await readAdvisoryText(path);
    const known = cache?.files[name];
    const advisory = known?.text === text ? known.advisory : await parseAdvisory(path, text);
    const stem = basename(name, extname(name));
    if (stem !== advisory.id)
      throw new InputError(path, `file name must equal the advisory id '${advisory.id}'`);
    advisories.push(advisory);
  }
  checkUnique(
    dir,
    "advisory",
    advisories.map((a) => a.id),
  );
  return advisories.sort((a, b) => a.id.localeCompare(b.id));
}
