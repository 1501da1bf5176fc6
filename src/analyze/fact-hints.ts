// What to do about a node agent fact a scan could not read, as typed hints (so JSON consumers and
// every report format say the same) and the one place that puts them into words.

import type { AgentFactsMissing } from "../model/snapshot.js";
import { NODE_FACTS_HELM_VALUE } from "../model/node-fact-series.js";
import type { FactObtainHint } from "./condition-result.js";

/**
 * The hint for a node without agent facts: no agent data came with the target at all (undefined),
 * or Prometheus showed why (its agent is not scraped, or reads no node facts).
 */
export function obtainHint(missing: AgentFactsMissing | undefined): FactObtainHint {
  switch (missing) {
    case undefined:
      return { helmValue: NODE_FACTS_HELM_VALUE, scanFlag: "--prometheus" };
    case "agent-not-scraped":
      return { scrape: "monitors.podMonitor.enabled", helmValue: NODE_FACTS_HELM_VALUE };
    case "node-facts-disabled":
      return { helmValue: NODE_FACTS_HELM_VALUE };
  }
}

function joinSteps(steps: readonly string[]): string {
  if (steps.length <= 1) return steps.join("");
  return `${steps.slice(0, -1).join(", ")} and ${steps.at(-1) ?? ""}`;
}

/** "to read them: set agent.nodeFacts.enabled=true in the cnidoctor-agent Helm chart and …". */
export function obtainText(hint: FactObtainHint): string {
  const steps = [
    ...(hint.scrape !== undefined
      ? [`have Prometheus scrape the node agent (Helm value ${hint.scrape}=true)`]
      : []),
    ...(hint.helmValue !== undefined
      ? [`set ${hint.helmValue}=true in the cnidoctor-agent Helm chart (the agent then reads node facts)`]
      : []),
    ...(hint.scanFlag !== undefined
      ? [`scan with ${hint.scanFlag} URL of the Prometheus that scrapes the agent`]
      : []),
  ];
  return `to read them: ${joinSteps(steps)}`;
}
