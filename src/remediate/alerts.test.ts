import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";
import { loadAdvisories, SHIPPED_ADVISORIES_DIR } from "../advisories/load.js";
import { alertRuleGroups, alertRulesDocument, alertRulesDocuments, SIGNATURE_COUNTER } from "./alerts.js";

const ROOT = new URL("../../../", import.meta.url);
const advisory = (await loadAdvisories(SHIPPED_ADVISORIES_DIR)).find((a) => a.id === "CNID-2024-0001");
assert.ok(advisory);
const adv = advisory;

test("alerts/cnidoctor-rules.yaml is exactly the generator's output (regenerate with `cnidoctor alerts --format rules`)", async () => {
  const committed = readFileSync(new URL("alerts/cnidoctor-rules.yaml", ROOT), "utf8");
  assert.equal(committed, alertRulesDocuments(await loadAdvisories(SHIPPED_ADVISORIES_DIR), "rules"));
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

test("several advisories make one valid rule set: shared recording rules once, each advisory's alerts", async () => {
  const shipped = (await loadAdvisories()).find((a) => a.id === "CNID-2024-0001");
  const [extra] = await loadAdvisories(
    fileURLToPath(new URL("../../../src/analyze/testdata/", import.meta.url)),
  );
  assert.ok(shipped && extra);
  const doc = parse(alertRulesDocuments([shipped, extra], "rules")) as {
    groups: { name: string; rules: { record?: string; alert?: string; expr: string }[] }[];
  };
  const records = doc.groups.flatMap((g) =>
    g.rules.flatMap((r) => (r.record !== undefined ? [r.record] : [])),
  );
  assert.deepEqual(records, [...new Set(records)], "no recorded name twice");
  const rate = doc.groups[0]?.rules.find((r) => r.record === "cnidoctor:signature_matches_per_hour:rate15m");
  assert.match(rate?.expr ?? "", /advisory="CNID-2024-0001".* or .*advisory="CNID-2099-0001"/);
  const alerts = doc.groups.flatMap((g) => g.rules.flatMap((r) => (r.alert !== undefined ? [r.alert] : [])));
  assert.ok(alerts.includes("CalicoXdpBtfRetryStorm") && alerts.includes("FelixRouteSyncStorm"));
  // One advisory: the document is exactly the single-advisory one.
  assert.equal(alertRulesDocuments([shipped], "rules"), alertRulesDocument(shipped, "rules"));
  const object = parse(alertRulesDocuments([shipped, extra], "prometheusrule")) as {
    spec: { groups: unknown };
  };
  assert.deepEqual(object.spec.groups, doc.groups);
});

test("CNID-2024-0002's rules carry its names; without resource alerts, no CPU or memory rule", async () => {
  const all = await loadAdvisories(SHIPPED_ADVISORIES_DIR);
  const flannel = all.find((a) => a.id === "CNID-2024-0002");
  assert.ok(flannel);
  const rules = alertRuleGroups(flannel).flatMap((g) => g.rules);
  assert.deepEqual(
    rules.map((r) => r.alert ?? r.record),
    [
      "cnidoctor:signature_matches_per_hour:rate15m",
      "FlannelIPv6RestoreLoopSeen",
      "FlannelIPv6RestoreLoopStorm",
    ],
  );
  assert.equal(rules[2]?.labels?.component, "kube-flannel");
  assert.match(rules[0]?.expr ?? "", /advisory="CNID-2024-0002", signature=~"ipv6-restore-loop"/);
  // Together with the XDP advisory: one recording group, each advisory's alerts in its own group.
  const pair = all.filter((a) => a.id === "CNID-2024-0001" || a.id === "CNID-2024-0002");
  const doc = parse(alertRulesDocuments(pair, "rules")) as {
    groups: { name: string; rules: { alert?: string }[] }[];
  };
  assert.deepEqual(
    doc.groups.map((g) => g.name),
    ["cnidoctor-recording", "cnidoctor-cnid_2024_0001", "cnidoctor-cnid_2024_0002"],
  );
  assert.deepEqual(
    doc.groups[2]?.rules.map((r) => r.alert),
    ["FlannelIPv6RestoreLoopSeen", "FlannelIPv6RestoreLoopStorm"],
  );
});

test("resource rules are named after the advisory's container, so two components never share one", async () => {
  const all = await loadAdvisories(SHIPPED_ADVISORIES_DIR);
  const base = all.find((a) => a.id === "CNID-2024-0001");
  assert.ok(base);
  const other = {
    ...base,
    id: "CNID-2099-0001",
    component: { ...base.component, container: "kube-flannel" },
    presentation: { ...base.presentation, alerts: {} },
  };
  const names = alertRuleGroups(other)
    .flatMap((g) => g.rules)
    .map((r) => r.alert ?? r.record);
  assert.ok(names.includes("cnidoctor:kube_flannel_cpu_cores:rate5m"), names.join(" "));
  assert.ok(names.includes("cnidoctor:kube_flannel_working_set_mib_per_hour:deriv1h"), names.join(" "));
  assert.ok(names.includes("KubeFlannelCpuAbovePeers"), names.join(" "));
  assert.ok(names.includes("KubeFlannelMemoryGrowing"), names.join(" "));
  assert.ok(!names.some((n) => n?.includes("calico") === true || n?.startsWith("Calico") === true));
  // The shipped advisory keeps the names alerting routes already use.
  const shipped = alertRuleGroups(base)
    .flatMap((g) => g.rules)
    .map((r) => r.alert ?? r.record);
  assert.ok(
    shipped.includes("CalicoNodeCpuAbovePeers") && shipped.includes("cnidoctor:calico_node_cpu_cores:rate5m"),
  );
  const cpuRule = alertRuleGroups(other)
    .flatMap((g) => g.rules)
    .find((r) => r.alert === "KubeFlannelCpuAbovePeers");
  assert.match(cpuRule?.annotations?.summary ?? "", /^kube-flannel /);
});
