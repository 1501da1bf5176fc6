// `plan` over a fleet: every cluster's plans (the same per-cluster planning as `plan --context X`),
// grouped by the change each cluster needs, then each cluster's plans in full. Read-only.

import { stringify } from "yaml";
import { UsageError } from "../../errors.js";
import type { ContextSelector } from "../../kube/merge.js";
import { selectSteps } from "../../apply/executor.js";
import { runPool } from "../../fleet/pool.js";
import { gapReasonOf } from "../../fleet/gap-reason.js";
import { groupLine, groupPlans, type ClusterPlans } from "../../fleet/plan-groups.js";
import { renderPlanMarkdown, renderPlanText } from "../../report/plan.js";
import { flagValue } from "../flag-access.js";
import type { ParsedArgs } from "../parse-flags.js";
import { liveSettings } from "./live-options.js";
import { bundleMembers, liveFleetMembers } from "./fleet-scan.js";
import type { FleetMember } from "../../fleet/run.js";
import { gatherFacts, makePlan, unreadLine, unreadParts } from "./remediate-shared.js";
import { textOutputFormat } from "./shared.js";
import type { CommandResult, Runtime } from "./types.js";
import { toolVersion } from "../version.js";

async function planOne(
  args: ParsedArgs,
  rt: Runtime,
  m: FleetMember,
  signal: AbortSignal,
): Promise<ClusterPlans> {
  const base = { context: m.context, server: m.server };
  if (m.target === undefined)
    return {
      ...base,
      outcome: "gap",
      gap: { reason: "credentials", message: m.credentialsError ?? "no credentials" },
      plans: [],
      needed: [],
    };
  const progress = rt.progress;
  const own: Runtime = {
    ...rt,
    ...(progress !== undefined ? { progress: (line: string) => progress(`${m.context}: ${line}`) } : {}),
  };
  try {
    const all = await gatherFacts(args, own, m.target(signal));
    const plans = [];
    for (const facts of all) plans.push(await makePlan(args, own, facts));
    const [first] = all;
    const unread = first !== undefined ? unreadParts(first, rt.now) : [];
    const needed = all
      .filter(
        (f) => f.diagnosis?.verdicts.some((v) => v.status === "affected" || v.status === "at-risk") === true,
      )
      .map((f) => f.advisory.id);
    return {
      ...base,
      outcome: "planned",
      plans,
      needed,
      ...(unread.length > 0
        ? { partial: unreadLine("plan", unread, "so steps may be missing").replace(/^cnidoctor: plan: /, "") }
        : {}),
    };
  } catch (e) {
    if (e instanceof UsageError && !/could not read/.test(e.message)) throw e;
    const gap = gapReasonOf(e);
    return { ...base, outcome: "gap", gap, plans: [], needed: [] };
  }
}

export async function planFleet(
  args: ParsedArgs,
  rt: Runtime,
  fleet: { select: ContextSelector } | { bundles: { name: string; dir: string }[] },
): Promise<CommandResult> {
  const fmt = textOutputFormat(args);
  if (flagValue(args, "rke-config") !== undefined)
    throw new UsageError(
      "plan: --rke-config is one cluster's cluster.yml; plan a fleet without it (or plan that cluster alone)",
    );
  const members =
    "select" in fleet
      ? await liveFleetMembers(args, rt, fleet.select, liveSettings(args))
      : bundleMembers(fleet.bundles);
  const stop = new AbortController();
  const interrupt = rt.interruptSignal?.();
  interrupt?.addEventListener("abort", () => stop.abort(), { once: true });
  const results = await runPool(
    members,
    flagValue(args, "clusters-concurrency"),
    (m) => planOne(args, rt, m, stop.signal),
    { signal: stop.signal },
  );
  const clusters = results.map((r, i): ClusterPlans => {
    const m = members[i] ?? { context: "", server: "" };
    if (r === undefined || (stop.signal.aborted && r.status === "fulfilled" && r.value.outcome === "gap"))
      return { context: m.context, server: m.server, outcome: "interrupted", plans: [], needed: [] };
    if (r.status === "rejected") throw r.reason;
    return r.value;
  });
  clusters.sort((a, b) => (a.context < b.context ? -1 : a.context > b.context ? 1 : 0));
  const groups = groupPlans(clusters);
  const incomplete = clusters.some((c) => c.outcome !== "planned" || c.partial !== undefined);
  const exitCode = incomplete ? 4 : 0;
  const unfinished = clusters.filter((c) => c.outcome === "interrupted").map((c) => c.context);
  const stderr =
    unfinished.length > 0
      ? { stderr: `cnidoctor: interrupted: not finished (${unfinished.length}): ${unfinished.join(", ")}` }
      : {};
  if (fmt === "json" || fmt === "yaml") {
    const data = {
      schemaVersion: 1,
      kind: "fleet-plan",
      generatedAt: rt.now.toISOString(),
      tool: { name: "cnidoctor", version: toolVersion() },
      groups,
      clusters,
    };
    return {
      stdout: fmt === "json" ? `${JSON.stringify(data, null, 2)}\n` : stringify(data, { lineWidth: 0 }),
      exitCode,
      ...stderr,
    };
  }
  const md = fmt === "markdown";
  const render = md ? renderPlanMarkdown : renderPlanText;
  const out: string[] = [md ? "# cnidoctor fleet plan" : "cnidoctor fleet plan", ""];
  out.push(...groups.map((g) => `${md ? "- " : ""}${groupLine(g)}`), "");
  for (const c of clusters) {
    out.push(md ? `## ${c.context}` : `=== ${c.context} ===`, "");
    if (c.outcome === "gap") out.push(`Not read (${c.gap?.reason ?? "error"}): ${c.gap?.message ?? ""}`, "");
    else if (c.outcome === "interrupted") out.push("Not finished: interrupted.", "");
    else {
      if (c.partial !== undefined) out.push(`Note: ${c.partial}`, "");
      for (const p of c.plans) out.push(render(p, new Set(selectSteps(p, undefined).map((s) => s.id))));
    }
  }
  return { stdout: `${out.join("\n").trimEnd()}\n`, exitCode, ...stderr };
}
