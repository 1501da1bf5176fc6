// Evaluates an advisory's conditions for one node. Each result explains itself, including why it
// could not be decided — the reason is what makes `not-affected` and `unknown` trustworthy.

import type { Condition } from "../model/advisory.js";
import type { ContainerFacts, FelixConfigurationFacts, NodeFacts } from "../model/snapshot.js";
import { resolveFelixSetting } from "./felix-settings.js";

export interface ConditionResult {
  id: string;
  kind: Condition["kind"];
  /** true/false when decided; undefined when the needed data is missing or ambiguous. */
  holds: boolean | undefined;
  /** Only required conditions decide a status; risk factors are evidence. */
  required: boolean;
  message: string;
  source?: string;
  /** The value was Felix's default because FelixConfiguration was not read. */
  assumed: boolean;
  /** The resolved setting or fact, when known. */
  value?: boolean | string;
  /** The check whose missing data left this undecided (for coverage materiality). */
  needs?: string;
  /** The source held a value Felix rejects, so Felix's default was used. */
  invalid?: boolean;
}

export interface ConditionContext {
  node: string;
  nodeFacts: NodeFacts | undefined;
  container: ContainerFacts | undefined;
  felixConfigurations: FelixConfigurationFacts[] | undefined;
}

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
  const value = ctx.nodeFacts?.[cond.fact];
  const base = {
    id: cond.id,
    kind: cond.kind,
    required: false,
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

export function evaluateConditions(
  conditions: readonly Condition[],
  ctx: ConditionContext,
): ConditionResult[] {
  return conditions.map((c) =>
    c.kind === "felix-setting" ? evaluateFelix(c, ctx) : evaluateNodeFact(c, ctx),
  );
}
