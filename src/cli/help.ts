// Help text, generated from the command registry and the flag table so it cannot drift from what
// the parser accepts.

import { COMMAND_LIST, findCommand } from "./commands/index.js";
import { defaultFor, flagsFor, valuesFor } from "./flags.js";
import type { FlagSpec } from "./flags.js";

export const EXIT_CODES: readonly [number, string][] = [
  [0, "nothing affected or at risk"],
  [1, "internal error"],
  [2, "bad usage or unreadable input"],
  [3, "something is affected or at risk"],
  [4, "nothing found, but something could not be evaluated"],
  [5, "apply/rollback: a step failed after changes began (the output names the backup to roll back)"],
];

/** Only these commands change anything, so only they can end with 5. */
const CHANGING = new Set(["apply", "rollback"]);

function flagLine(f: FlagSpec, command: string): string {
  const name = `${f.short !== undefined ? `-${f.short}, ` : "    "}--${f.name}${f.value.kind !== "boolean" ? " VALUE" : ""}`;
  const values = valuesFor(f, command);
  const fallback = defaultFor(f, command);
  const old = (f.deprecated ?? []).filter((d) => d.commands.includes(command));
  const extra = [
    values ? `one of ${values.join("|")}` : "",
    f.env !== undefined && (f.envCommands?.includes(command) ?? true) ? `env ${f.env}` : "",
    fallback !== undefined ? `default ${fallback}` : "",
    ...old.map((d) => `deprecated old name ${d.short !== undefined ? `-${d.short}, ` : ""}--${d.name}`),
  ]
    .filter(Boolean)
    .join("; ");
  return `  ${name.padEnd(28)} ${f.usage}${extra ? ` (${extra})` : ""}`;
}

const exitLines = (command?: string): string[] => [
  "Exit codes:",
  ...EXIT_CODES.filter(([c]) => c !== 5 || command === undefined || CHANGING.has(command)).map(
    ([c, m]) => `  ${c}  ${m}`,
  ),
];

export function helpText(command?: string): string {
  const cmd = command !== undefined ? findCommand(command) : undefined;
  if (cmd) {
    return [
      `Usage: ${cmd.usage}`,
      "",
      cmd.summary,
      "",
      "Flags:",
      ...flagsFor(cmd.name).map((f) => flagLine(f, cmd.name)),
      ...(cmd.examples.length > 0 ? ["", "Examples:", ...cmd.examples.map((e) => `  ${e}`)] : []),
      "",
      ...exitLines(cmd.name),
      "",
    ].join("\n");
  }
  return [
    "cnidoctor — finds known failures of a cluster's Calico/Canal network plugin, with evidence.",
    "",
    "Commands:",
    ...COMMAND_LIST.map((c) => `  ${c.name.padEnd(12)} ${c.summary}`),
    `  ${"version".padEnd(12)} Print the version.`,
    `  ${"help".padEnd(12)} Show help; 'cnidoctor help COMMAND' for flags and examples.`,
    "",
    ...exitLines(),
    "",
  ].join("\n");
}
