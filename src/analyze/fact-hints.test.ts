// The typed "how to read it" hints for node agent facts and their one rendering.

import { test } from "node:test";
import assert from "node:assert/strict";
import { obtainHint, obtainText } from "./fact-hints.js";

test("each missing case renders the steps it lacks, in the order an operator takes them", () => {
  assert.equal(
    obtainText(obtainHint(undefined)),
    "to read them: set agent.nodeFacts.enabled=true in the cnidoctor-agent Helm chart (the agent then reads node facts) and scan with --prometheus URL of the Prometheus that scrapes the agent",
  );
  assert.equal(
    obtainText(obtainHint("agent-not-scraped")),
    "to read them: have Prometheus scrape the node agent (Helm value monitors.podMonitor.enabled=true) and set agent.nodeFacts.enabled=true in the cnidoctor-agent Helm chart (the agent then reads node facts)",
  );
  assert.equal(
    obtainText(obtainHint("node-facts-disabled")),
    "to read them: set agent.nodeFacts.enabled=true in the cnidoctor-agent Helm chart (the agent then reads node facts)",
  );
  assert.equal(
    obtainText({
      scrape: "monitors.podMonitor.enabled",
      helmValue: "agent.nodeFacts.enabled",
      scanFlag: "--prometheus",
    }),
    "to read them: have Prometheus scrape the node agent (Helm value monitors.podMonitor.enabled=true), set agent.nodeFacts.enabled=true in the cnidoctor-agent Helm chart (the agent then reads node facts) and scan with --prometheus URL of the Prometheus that scrapes the agent",
  );
});
