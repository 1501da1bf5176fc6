// The README's flag reference, generated from the flag table (flags.ts) so it cannot drift from
// what the parser accepts. `npm run docs:flags` rewrites it; flag-reference.test.ts fails when the
// README's copy differs.

import { FLAGS, type FlagSpec } from "./flags.js";

export const FLAG_TABLE_BEGIN =
  "<!-- flags:begin (generated from src/cli/flags.ts by `npm run docs:flags`) -->";
export const FLAG_TABLE_END = "<!-- flags:end -->";

function cell(text: string): string {
  return text.replace(/\s*\n\s*/g, " ").replace(/\|/g, "\\|");
}

function flagName(f: FlagSpec): string {
  const value = f.value.kind !== "boolean" ? " VALUE" : "";
  return `\`${f.short !== undefined ? `-${f.short}, ` : ""}--${f.name}${value}\``;
}

const code = (v: string): string => `\`${v}\``;

/** Commands grouped by what they share: "default `1h` on scan, collect". */
function grouped(per: Readonly<Record<string, string>>, say: (value: string) => string): string[] {
  const groups = new Map<string, string[]>();
  for (const [command, value] of Object.entries(per))
    groups.set(value, [...(groups.get(value) ?? []), command]);
  return [...groups].map(([value, commands]) => `${say(value)} on ${commands.join(", ")}`);
}

function meaning(f: FlagSpec): string {
  const valuesFor = Object.fromEntries(
    Object.entries(f.valuesFor ?? {}).map(([c, vs]) => [c, vs.join("\n")]),
  );
  const extra = [
    f.values !== undefined ? `one of ${f.values.map(code).join(", ")}` : "",
    ...grouped(valuesFor, (vs) => `only ${vs.split("\n").map(code).join(", ")}`),
    f.env !== undefined
      ? `env ${code(f.env)}${f.envCommands !== undefined ? ` on ${f.envCommands.join(", ")}` : ""}`
      : "",
    ...grouped(f.defaults ?? {}, (v) => `default ${code(v)}`),
    f.default !== undefined ? `default ${code(f.default)}` : "",
    f.multiple === true ? "may be repeated" : "",
    ...(f.deprecated ?? []).map(
      (d) =>
        `deprecated old name ${code(`${d.short !== undefined ? `-${d.short}, ` : ""}--${d.name}`)} on ${d.commands.join(", ")}`,
    ),
  ].filter((s) => s !== "");
  return extra.length > 0 ? `${f.usage} (${extra.join("; ")})` : f.usage;
}

/** The Markdown table: one row per flag spec, in the flag table's order. */
export function flagReferenceTable(flags: readonly FlagSpec[] = FLAGS): string {
  const rows = flags.map(
    (f) =>
      `| ${cell(flagName(f))} | ${cell(f.commands.length === 0 ? "all" : f.commands.join(", "))} | ${cell(meaning(f))} |`,
  );
  return ["| flag | commands | meaning |", "| --- | --- | --- |", ...rows].join("\n");
}

/** `readme` with the text between the markers replaced by the generated table. */
export function withFlagTable(readme: string, table: string = flagReferenceTable()): string {
  const begin = readme.indexOf(FLAG_TABLE_BEGIN);
  const end = readme.indexOf(FLAG_TABLE_END);
  if (begin < 0 || end < begin)
    throw new Error(`README: the markers ${FLAG_TABLE_BEGIN} … ${FLAG_TABLE_END} are missing`);
  return `${readme.slice(0, begin + FLAG_TABLE_BEGIN.length)}\n\n${table}\n\n${readme.slice(end)}`;
}
