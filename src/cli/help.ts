// Help text, generated from the flag table so it cannot drift from what the parser accepts.

import { flagsFor } from "./flags.js";

const COMMAND_HELP: Record<string, { usage: string; summary: string; examples: string[] }> = {
  scan: {
    usage: "cnidoctor scan --bundle DIR [-o table|json|yaml|markdown]",
    summary:
      "Diagnose a cluster from a cluster-info dump bundle: per node affected / at-risk / not-affected / unknown, with evidence.",
    examples: ["cnidoctor scan --bundle ./dump", "cnidoctor scan --bundle ./dump -o json > report.json"],
  },
  logs: {
    usage: "cnidoctor logs FILE... [-o table|json|yaml|markdown]",
    summary: "Scan calico-node log files alone (plain Felix, CRI, docker json-file, .gz; '-' reads stdin).",
    examples: [
      "cnidoctor logs /var/log/pods/kube-system_canal-*/calico-node/0.log",
      "kubectl logs -n kube-system ds/canal -c calico-node | cnidoctor logs -",
    ],
  },
  advisories: {
    usage: "cnidoctor advisories list | show ID | validate FILE...",
    summary: "List, show and validate the known-issue advisories (data files checked against the schema).",
    examples: [
      "cnidoctor advisories list",
      "cnidoctor advisories show CNID-2024-0001",
      "cnidoctor advisories validate ./my-advisory.yaml",
    ],
  },
  version: { usage: "cnidoctor version", summary: "Print the version.", examples: [] },
  help: { usage: "cnidoctor help [COMMAND]", summary: "Show help.", examples: [] },
};

const EXIT_CODES = [
  "0  nothing affected or at risk",
  "1  internal error",
  "2  bad usage or unreadable input",
  "3  something is affected or at risk",
  "4  nothing found, but something could not be evaluated",
];

export function helpText(command?: string): string {
  if (command !== undefined && command in COMMAND_HELP) {
    const h = COMMAND_HELP[command];
    if (!h) return "";
    const flags = flagsFor(command).map((f) => {
      const name = `${f.short !== undefined ? `-${f.short}, ` : "    "}--${f.name}${f.type === "string" ? " VALUE" : ""}`;
      const extra = [
        f.values ? `one of ${f.values.join("|")}` : "",
        f.env !== undefined ? `env ${f.env}` : "",
        f.default !== undefined ? `default ${String(f.default)}` : "",
      ]
        .filter(Boolean)
        .join("; ");
      return `  ${name.padEnd(28)} ${f.usage}${extra ? ` (${extra})` : ""}`;
    });
    return [
      `Usage: ${h.usage}`,
      "",
      h.summary,
      "",
      "Flags:",
      ...flags,
      ...(h.examples.length ? ["", "Examples:", ...h.examples.map((e) => `  ${e}`)] : []),
      "",
      "Exit codes:",
      ...EXIT_CODES.map((e) => `  ${e}`),
      "",
    ].join("\n");
  }
  return [
    "cnidoctor — finds known failures of a cluster's Calico/Canal network plugin, with evidence.",
    "",
    "Commands:",
    ...Object.entries(COMMAND_HELP).map(([name, h]) => `  ${name.padEnd(12)} ${h.summary}`),
    "",
    "Run 'cnidoctor help COMMAND' for flags and examples.",
    "",
    "Exit codes:",
    ...EXIT_CODES.map((e) => `  ${e}`),
    "",
  ].join("\n");
}
