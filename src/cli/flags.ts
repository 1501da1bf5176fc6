// Every flag is defined once here: name, env var, allowed values and usage. Help text and the
// README's flag reference are generated from this table (scripts/docs/cli-reference.ts).

export interface FlagSpec {
  name: string;
  short?: string;
  type: "string" | "boolean";
  /** Environment variable that supplies a default. */
  env?: string;
  values?: readonly string[];
  default?: string | boolean;
  multiple?: boolean;
  usage: string;
  /** Commands that accept it; empty means all. */
  commands: readonly string[];
}

export const OUTPUT_FORMATS = ["table", "json", "yaml", "markdown"] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

export const FLAGS: readonly FlagSpec[] = [
  {
    name: "output",
    short: "o",
    type: "string",
    env: "CNIDOCTOR_OUTPUT",
    values: OUTPUT_FORMATS,
    default: "table",
    usage: "Report format.",
    commands: ["scan", "logs", "advisories"],
  },
  {
    name: "bundle",
    type: "string",
    usage:
      "Scan a `kubectl cluster-info dump --all-namespaces --output-directory` directory instead of a live cluster.",
    commands: ["scan"],
  },
  {
    name: "advisories",
    type: "string",
    env: "CNIDOCTOR_ADVISORIES",
    usage: "Directory of advisory files to use instead of the ones shipped with cnidoctor.",
    commands: ["scan", "logs", "advisories"],
  },
  {
    name: "color",
    type: "boolean",
    usage: "Force colour in table output (default: only when stdout is a terminal and NO_COLOR is unset).",
    commands: ["scan", "logs"],
  },
  { name: "no-color", type: "boolean", usage: "Never use colour.", commands: ["scan", "logs"] },
  { name: "help", short: "h", type: "boolean", usage: "Show help for the command.", commands: [] },
];

export function flagsFor(command: string): FlagSpec[] {
  return FLAGS.filter((f) => f.commands.length === 0 || f.commands.includes(command));
}
