// Parses one command's flags against the flag table. Light on purpose (flags and errors only), so
// the lean entries for `logs` and `agent` can use it without loading every command. Values stay
// text here; flag-access.ts turns them into typed values, once, by the table's value types.

import { parseArgs, type ParseArgsConfig } from "node:util";
import { UsageError } from "../errors.js";
import { defaultFor, flagsFor, type FlagSpec } from "./flags.js";

export interface ParsedArgs {
  command: string;
  positionals: string[];
  flags: Record<string, string | boolean | undefined>;
  /** The flags given on the command line (not taken from the environment or a default). */
  given?: ReadonlySet<string>;
  /** One line each for stderr: an old flag spelling that still works but goes away. */
  deprecations?: readonly string[];
  /** Flags given by an old name: name → that old name (messages say what the user typed). */
  spelled?: Readonly<Record<string, string>>;
}

type Options = NonNullable<ParseArgsConfig["options"]>;

function optionOf(f: FlagSpec, short: string | undefined): Options[string] {
  return {
    type: f.value.kind === "boolean" ? "boolean" : "string",
    ...(short !== undefined ? { short } : {}),
  };
}

/** The deprecated spellings `command` still accepts: old name → its spec. */
function oldNames(
  specs: readonly FlagSpec[],
  command: string,
): Map<string, { spec: FlagSpec; short?: string }> {
  const out = new Map<string, { spec: FlagSpec; short?: string }>();
  for (const spec of specs)
    for (const old of spec.deprecated ?? [])
      if (old.commands.includes(command))
        out.set(old.name, { spec, ...(old.short !== undefined ? { short: old.short } : {}) });
  return out;
}

export function parseCommandFlags(command: string, argv: string[], env: NodeJS.ProcessEnv): ParsedArgs {
  const specs = flagsFor(command);
  const old = oldNames(specs, command);
  const options: Options = {};
  for (const f of specs) options[f.name] = optionOf(f, f.short);
  for (const [name, o] of old) options[name] = optionOf(o.spec, o.short);
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (e) {
    throw new UsageError(
      `${command}: ${(e as Error).message.replace(/\. To specify a positional argument.*$/s, "")}`,
    );
  }
  const values = parsed.values as Record<string, string | boolean | undefined>;
  const deprecations: string[] = [];
  const spelled: Record<string, string> = {};
  for (const [name, o] of old) {
    if (values[name] === undefined) continue;
    const shown = `${o.short !== undefined ? `-${o.short}/` : ""}--${name}`;
    if (values[o.spec.name] !== undefined)
      throw new UsageError(
        `${command}: ${shown} is the old name of --${o.spec.name}: give only --${o.spec.name}`,
      );
    values[o.spec.name] = values[name];
    spelled[o.spec.name] = name;
    deprecations.push(
      `note: ${command}: ${shown} is deprecated and goes away in the next release: use --${o.spec.name}`,
    );
  }
  const flags: Record<string, string | boolean | undefined> = {};
  const named = new Set<string>();
  for (const f of specs) {
    const given = values[f.name];
    if (given !== undefined) named.add(f.name);
    const readsEnv = f.env !== undefined && (f.envCommands?.includes(command) ?? true);
    const fromEnv = readsEnv && f.env !== undefined ? env[f.env] : undefined;
    const value = given ?? (fromEnv !== undefined && fromEnv !== "" ? fromEnv : defaultFor(f, command));
    if (typeof value === "string" && f.values && !f.values.includes(value)) {
      const origin = given !== undefined ? `--${f.name}` : (f.env ?? "");
      throw new UsageError(`${command}: ${origin} must be one of ${f.values.join(", ")} (got '${value}')`);
    }
    flags[f.name] = value;
  }
  return {
    command,
    positionals: parsed.positionals,
    flags,
    given: named,
    ...(deprecations.length > 0 ? { deprecations, spelled } : {}),
  };
}
