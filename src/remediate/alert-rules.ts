// The alert rules as a file to apply (a PrometheusRule built by alerts.ts, which `cnidoctor
// alerts` prints too): always planned, with or without a cluster.

import { join } from "node:path";
import type { Step } from "../model/plan.js";
import { alertRulesDocument, hasResourceAlerts } from "./alerts.js";
import { unifiedDiff } from "./diff.js";
import type { PlanFacts, Planner } from "./types.js";

function alertsStep(facts: PlanFacts): Step {
  const content = alertRulesDocument(facts.advisory, "prometheusrule");
  const path = join(facts.options.outputDir, "cnidoctor-alerts.yaml");
  const container = facts.advisory.component.container;
  // An advisory without resource alerts gets only the signature rules: the text says so.
  const resources = hasResourceAlerts(facts.advisory);
  return {
    id: "alert-rules",
    remediationId: "alert-on-signature",
    kind: "file-write",
    title: resources
      ? "Write Prometheus alert rules (PrometheusRule) for the signature rate, CPU and memory slope"
      : "Write Prometheus alert rules (PrometheusRule) for the signature rate",
    summary: resources
      ? `Alerts when the signature rate, ${container} CPU or its working-set slope crosses the advisory thresholds.`
      : "Alerts when the signature rate crosses the advisory thresholds.",
    notes: [
      resources
        ? "The signature-rate rule needs the cnidoctor agent's counter cnidoctor_signature_matches_total; the CPU and memory rules need cAdvisor metrics only."
        : "The rules need the cnidoctor agent's counter cnidoctor_signature_matches_total.",
      `kubectl apply -f ${path} (Prometheus Operator), or \`cnidoctor alerts --format rules\` for a plain rule file.`,
    ],
    diff: unifiedDiff("", content, path),
    default: false,
    durable: true,
    alreadyApplied: false,
    path,
    content,
  };
}

export const alertRulesPlanner: Planner = {
  name: "alert rules",
  implements: ["alert-on-signature"],
  plan: (facts) => ({ steps: [alertsStep(facts)], notes: [] }),
};
