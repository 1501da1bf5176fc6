// Evaluates an advisory's conditions for one node. Each result explains itself, including why it
// could not be decided — the reason is what makes `not-affected` and `unknown` trustworthy.

import type { Condition } from "../model/advisory.js";
import type { ConditionContext, ConditionResult } from "./condition-result.js";
import { resolveFelixSetting } from "./felix-settings.js";
import { evaluateFactCondition, evaluateGroups } from "./fact-conditions.js";

export type { ConditionContext, ConditionResult } from "./condition-result.js";

function evaluateFelix(
  cond: Extract<Condition, { kind: "felix-setting" }>,
  ctx: ConditionContext,
): ConditionResult {
  const r = resolveFelixSetting({
    field: cond.field,
    felixDefault: cond.default,
    node: ctx.node,
    container: ctx.container,
    configs: ctx.felixConfigurations,
  });
  const base = {
    id: cond.id,
    kind: cond.kind,
    required: true,
    source: r.source,
    ...(r.value !== undefined ? { value: r.value } : {}),
    ...(r.invalid === true ? { invalid: true } : {}),
  };
  if (r.value === undefined) {
    return {
      ...base,
      holds: undefined,
      assumed: false,
      needs: "felix-configuration",
      message: `${cond.field} could not be determined: ${r.source}`,
    };
  }
  const holds = r.value === cond.equals;
  if (r.assumed && !holds) {
    // Never conclude "not affected" from a value nobody read.
    return {
      ...base,
      holds: undefined,
      assumed: true,
      needs: "felix-configuration",
      message: `${cond.field} unknown: ${r.source}`,
    };
  }
  return {
    ...base,
    holds,
    assumed: r.assumed,
    ...(r.assumed ? { needs: "felix-configuration" } : {}),
    message: `${cond.field}=${String(r.value)} (${holds ? "condition holds" : "condition fails"}): ${r.source}`,
  };
}

function evaluateNodeFact(
  cond: Extract<Condition, { kind: "node-fact" }>,
  ctx: ConditionContext,
): ConditionResult {
  if (cond.fact !== "kernelVersion" && cond.fact !== "osImage") return evaluateFactCondition(cond, ctx);
  const value = ctx.nodeFacts?.[cond.fact];
  const base = {
    id: cond.id,
    kind: cond.kind,
    required: cond.effect === "required",
    assumed: false,
    source: `node ${ctx.node} status.nodeInfo.${cond.fact}`,
  };
  if (value === undefined)
    return { ...base, holds: undefined, message: `${cond.fact} not known for node ${ctx.node}` };
  const holds = new RegExp(cond.pattern).test(value);
  return {
    ...base,
    value,
    holds,
    message: holds
      ? `${cond.fact} ${value} is a kernel where this problem was reported`
      : `${cond.fact} ${value} is not among the kernels where this was reported (others may still be affected)`,
  };
}

/**
 * A Felix setting or feature on a node whose install runs flannel alone: there is no Felix to hold
 * it, so the condition does not hold (not applicable), rather than waiting for data that cannot exist.
 */
function felixNotApplicable(
  cond: Extract<Condition, { kind: "felix-setting" | "felix-feature" }>,
  ctx: ConditionContext,
): ConditionResult {
  const what = cond.kind === "felix-setting" ? cond.field : cond.feature;
  return {
    id: cond.id,
    kind: cond.kind,
    required: cond.kind === "felix-setting" || cond.effect === "required",
    holds: false,
    assumed: false,
    source: `node ${ctx.node}: flannel install without calico-node`,
    message: `not applicable: node ${ctx.node} runs flannel without Felix, so nothing sets ${what}`,
  };
}

export function evaluateConditions(
  conditions: readonly Condition[],
  ctx: ConditionContext,
): ConditionResult[] {
  const leaves = conditions.map((c) => {
    if (ctx.plugin === "flannel" && (c.kind === "felix-setting" || c.kind === "felix-feature"))
      return felixNotApplicable(c, ctx);
    switch (c.kind) {
      case "felix-setting":
        return evaluateFelix(c, ctx);
      case "node-fact":
        return evaluateNodeFact(c, ctx);
      case "all-of":
      case "any-of":
        return undefined;
      default:
        return evaluateFactCondition(c, ctx);
    }
  });
  return evaluateGroups(conditions, leaves);
}
