import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { parse } from "yaml";
import { loadAdvisories, SHIPPED_ADVISORIES_DIR } from "../advisories/load.js";
import { alertRuleGroups, alertRulesDocument, SIGNATURE_COUNTER } from "./alerts.js";

const ROOT = new URL("../../../", import.meta.url);
const advisory = (await loadAdvisories(SHIPPED_ADVISORIES_DIR)).find((a) => a.id === "CNID-2024-0001");
assert.ok(advisory);
const adv = advisory;

test("alerts/cnidoctor-rules.yaml is exactly the generator's output (regenerate with `cnidoctor alerts --format rules`)", () => {
  const committed = readFileSync(new URL("alerts/cnidoctor-rules.yaml", ROOT), "utf8");
  assert.equal(committed, alertRulesDocument(adv, "rules"));
});

test("thresholds and signatures come from the advisory data", () => {
  const changed = {
    ...adv,
    symptoms: { cpuPeerRatio: 7, memorySlopeMiBPerHour: 11, signatureRatePerHour: 500 },
  };
  const exprs = alertRuleGroups(changed)
    .flatMap((g) => g.rules.map((r) => r.expr))
    .join("\n");
  assert.match(exprs, /> 500\b/);
  assert.match(exprs, /scalar\(7 \* quantile/);
  assert.match(exprs, /> 11\b/);
  assert.match(
    exprs,
    new RegExp(
      `${SIGNATURE_COUNTER}\\{advisory="CNID-2024-0001", signature=~"xdp-btf-load-failure\\|calico-btf-dump-in-loop"\\}`,
    ),
  );
  assert.doesNotMatch(exprs, /lookalike/);
});

test("the PrometheusRule form carries the same groups", () => {
  const doc = parse(alertRulesDocument(adv, "prometheusrule")) as { kind: string; spec: { groups: unknown } };
  assert.equal(doc.kind, "PrometheusRule");
  assert.deepEqual(doc.spec.groups, (parse(alertRulesDocument(adv, "rules")) as { groups: unknown }).groups);
});
