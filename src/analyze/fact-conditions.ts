// Conditions over facts other than one Felix setting: fields of Kubernetes objects (a JSON key of
// a ConfigMap, an IPPool's spec), the Node's providerID and labels, what the node agent read on the
// node, a Felix feature flag whose default depends on version and kernel, and all-of / any-of
// groups of other conditions. Every result says where it was read, or why it could not be, and a
// fact that cannot be read in this kind of scan says so rather than passing for "false".

import type {
  AgentFactCondition,
  Condition,
  FelixFeatureCondition,
  GroupCondition,
  NodeFactCondition,
  ObjectFieldCondition,
} from "../model/advisory.js";
import type { AgentNodeFacts, ObjectFacts } from "../model/snapshot.js";
import type { ConditionContext, ConditionResult } from "./condition-result.js";
import { resolveFelixFeature } from "./felix-feature.js";
import { obtainHint } from "./fact-hints.js";

type Leaf = NodeFactCondition | ObjectFieldCondition | AgentFactCondition | FelixFeatureCondition;

function base(cond: Condition): Pick<ConditionResult, "id" | "kind" | "required" | "assumed"> {
  return {
    id: cond.id,
    kind: cond.kind,
    required: "effect" in cond && cond.effect === "required",
    assumed: false,
  };
}

function nodeField(cond: NodeFactCondition, ctx: ConditionContext): ConditionResult {
  const f = ctx.nodeFacts;
  const label = cond.label ?? "";
  const what = cond.fact === "label" ? `label ${label}` : `spec.providerID`;
  const value = cond.fact === "label" ? f?.labels[label] : f?.providerID;
  const source = `node ${ctx.node} ${cond.fact === "label" ? `metadata.labels[${label}]` : what}`;
  if (f === undefined)
    return {
      ...base(cond),
      holds: undefined,
      source,
      needs: "nodes",
      message: `node ${ctx.node} could not be read`,
    };
  if (value === undefined)
    return { ...base(cond), holds: false, source, message: `${what} is not set on node ${ctx.node}` };
  const holds = new RegExp(cond.pattern).test(value);
  return {
    ...base(cond),
    holds,
    value,
    source,
    message: `${what} ${value} ${holds ? "matches" : "does not match"} ${cond.pattern}`,
  };
}

function walk(value: unknown, path: readonly string[]): unknown {
  let v = value;
  for (const key of path) {
    if (typeof v !== "object" || v === null || Array.isArray(v)) return undefined;
    v = (v as Record<string, unknown>)[key];
  }
  return v;
}

/** The field as text, reading into a JSON document when the condition asks; an error text when broken. */
function fieldText(o: ObjectFacts, cond: ObjectFieldCondition): { text?: string; problem?: string } {
  const raw = walk(o.body, cond.path);
  let v = raw;
  if (cond.json !== undefined) {
    if (typeof raw !== "string") return {};
    try {
      v = walk(JSON.parse(raw) as unknown, cond.json);
    } catch (e) {
      return { problem: `${cond.path.join(".")} is not JSON (${(e as Error).message})` };
    }
  }
  if (typeof v === "string") return { text: v };
  if (typeof v === "number" || typeof v === "boolean") return { text: String(v) };
  return {};
}

function fieldName(cond: ObjectFieldCondition): string {
  return [...cond.path, ...(cond.json ?? [])].join(".");
}

function objectsFor(cond: ObjectFieldCondition, ctx: ConditionContext): ObjectFacts[] | undefined {
  if (cond.resource === "felixconfigurations")
    return ctx.felixConfigurations?.map((c) => ({
      namespace: "",
      name: c.name,
      body: { spec: c.spec },
      ref: c.from.ref,
    }));
  return ctx.objects?.[cond.resource]?.items;
}

function objectField(cond: ObjectFieldCondition, ctx: ConditionContext): ConditionResult {
  const re = new RegExp(cond.pattern, cond.ignoreCase === true ? "i" : "");
  const field = fieldName(cond);
  const named = cond.names !== undefined ? cond.names.join(", ") : `every ${cond.resource} object`;
  const all = objectsFor(cond, ctx);
  const selected = (all ?? []).filter(
    (o) =>
      (cond.names === undefined || cond.names.includes(o.name)) &&
      (cond.namespaces === undefined || o.namespace === "" || cond.namespaces.includes(o.namespace)),
  );
  if (selected.length === 0) {
    const why = all === undefined ? `${cond.resource} were not read` : `none of ${named} exists`;
    const plugin = ctx.plugin;
    const assume = plugin !== undefined ? cond.assume?.find((a) => a.plugins.includes(plugin)) : undefined;
    if (assume !== undefined && plugin !== undefined) {
      const holds = re.test(assume.value);
      return {
        ...base(cond),
        holds,
        assumed: true,
        value: assume.value,
        needs: cond.resource,
        source: `${plugin} default (assumed: ${why})`,
        message: `${field} assumed ${assume.value}, what a ${plugin} install renders (${why})`,
      };
    }
    if (all === undefined)
      return { ...base(cond), holds: undefined, needs: cond.resource, message: `${field} unknown: ${why}` };
    return { ...base(cond), holds: false, message: `${field}: ${why}` };
  }
  const read = selected.map((o) => ({ o, ...fieldText(o, cond) }));
  const hit = read.find((r) => r.text !== undefined && re.test(r.text));
  if (hit?.text !== undefined)
    return {
      ...base(cond),
      holds: true,
      value: hit.text,
      source: hit.o.ref,
      message: `${hit.o.namespace !== "" ? `${hit.o.namespace}/` : ""}${hit.o.name} ${field}=${hit.text}`,
    };
  const broken = read.find((r) => r.problem !== undefined);
  if (broken !== undefined)
    return {
      ...base(cond),
      holds: undefined,
      needs: cond.resource,
      source: broken.o.ref,
      message: `${broken.o.name}: ${broken.problem ?? ""}`,
    };
  const values = read.map((r) => `${r.o.name}: ${r.text ?? "not set"}`).join(", ");
  return {
    ...base(cond),
    holds: false,
    source: read[0]?.o.ref ?? "",
    message: `${field} does not match ${cond.pattern} (${values})`,
  };
}

/** " (read by the node agent at T)", or " (read by the node agent, from Prometheus at T)". */
function readBy(a: AgentNodeFacts): string {
  return a.source?.kind === "prometheus"
    ? ` (read by the node agent, from Prometheus at ${a.readAt})`
    : ` (read by the node agent at ${a.readAt})`;
}

function nicDriverFact(cond: AgentFactCondition, a: AgentNodeFacts): ConditionResult {
  const d = a.nicDriver;
  if (d === undefined)
    return {
      ...base(cond),
      holds: undefined,
      needs: "node-agent",
      message: `nicDriver not read by the agent: ${a.unavailable[cond.fact] ?? "no value"}`,
    };
  const holds = new RegExp(cond.pattern ?? ".").test(d.value);
  return {
    ...base(cond),
    holds,
    value: d.value,
    source: d.source,
    message: `default-route NIC driver ${d.value}${a.source !== undefined ? readBy(a) : ""}`,
  };
}

function csumFact(cond: AgentFactCondition, a: AgentNodeFacts): ConditionResult {
  const c = a.udpInCsumErrors;
  if (c === undefined)
    return {
      ...base(cond),
      holds: undefined,
      needs: "node-agent",
      message: `UDP InCsumErrors not read by the agent: ${a.unavailable[cond.fact] ?? "no value"}`,
    };
  const rise = c.increase ?? c.last - c.first;
  const holds = rise > 0;
  const resets = c.resets !== undefined && c.resets > 0 ? `, across ${c.resets} counter reset(s)` : "";
  const by = c.increase !== undefined ? ` by ${rise}` : "";
  return {
    ...base(cond),
    holds,
    value: String(rise),
    source: c.source,
    message: `UDP InCsumErrors ${holds ? `rose${by}` : "did not rise"} from ${c.first} to ${c.last}${resets}${readBy(a)}`,
  };
}

function kernelLogFact(cond: AgentFactCondition, a: AgentNodeFacts): ConditionResult {
  const k = a.kernelLog;
  if (k === undefined)
    return {
      ...base(cond),
      holds: undefined,
      needs: "node-agent",
      message: `the kernel log was not read by the agent: ${a.unavailable[cond.fact] ?? "no value"}`,
    };
  // From Prometheus there are no lines, only how many records matched each condition.
  const counted = k.matches?.[cond.id];
  if (counted !== undefined && k.lines.length === 0)
    return {
      ...base(cond),
      holds: counted > 0,
      value: String(counted),
      source: k.source,
      message:
        counted > 0
          ? `${counted} kernel log record(s) matched ${cond.id}${readBy(a)}`
          : `no kernel log record matched ${cond.id}${readBy(a)}`,
    };
  const re = new RegExp(cond.pattern ?? ".");
  const lines = k.lines.filter((l) => re.test(l));
  return {
    ...base(cond),
    holds: lines.length > 0,
    value: String(lines.length),
    source: k.source,
    message:
      lines.length > 0
        ? `${lines.length} kernel log line(s) match, e.g. "${lines[0] ?? ""}"`
        : `no kernel log line the agent kept matches ${cond.pattern ?? ""}`,
  };
}

function agentFact(cond: AgentFactCondition, ctx: ConditionContext): ConditionResult {
  const a = ctx.agent;
  if (a === undefined)
    return {
      ...base(cond),
      holds: undefined,
      unavailable: true,
      needs: "node-agent",
      obtain: obtainHint(undefined),
      message: `${cond.fact} is not available in a ${ctx.mode ?? "this"} scan: no node agent data for node ${ctx.node}`,
    };
  if (a.missing !== undefined)
    return {
      ...base(cond),
      holds: undefined,
      unavailable: true,
      needs: "node-agent",
      obtain: obtainHint(a.missing),
      message: `${cond.fact} is not available: ${a.unavailable[cond.fact] ?? "no node agent data"}`,
    };
  switch (cond.fact) {
    case "nicDriver":
      return nicDriverFact(cond, a);
    case "udpInCsumErrorsRising":
      return csumFact(cond, a);
    case "kernelLog":
      return kernelLogFact(cond, a);
  }
}

function felixFeature(cond: FelixFeatureCondition, ctx: ConditionContext): ConditionResult {
  const count = (ids: readonly string[] | undefined): number =>
    (ids ?? []).reduce((n, id) => n + (ctx.signals?.[id] ?? 0), 0);
  const saysTrue = count(cond.observed?.true);
  const saysFalse = count(cond.observed?.false);
  const r = resolveFelixFeature({
    feature: cond.feature,
    defaults: cond.defaults,
    node: ctx.node,
    container: ctx.container,
    configs: ctx.felixConfigurations,
    calicoVersion: ctx.calicoVersion,
    kernel: ctx.nodeFacts?.kernelVersion,
  });
  // Felix's own report of the value it runs with beats any reading of its inputs.
  const observed =
    saysTrue > 0 && saysFalse === 0 ? true : saysFalse > 0 && saysTrue === 0 ? false : undefined;
  if (observed !== undefined) {
    const holds = observed === cond.equals;
    const agrees =
      r.value === undefined || r.value === observed
        ? ""
        : ` (its configuration suggested ${String(r.value)}: ${r.source})`;
    return {
      ...base(cond),
      holds,
      value: observed,
      source: `calico-node log of node ${ctx.node}`,
      message: `Felix logged ${cond.feature}=${String(observed)} (${saysTrue + saysFalse} record(s))${agrees}`,
    };
  }
  if (r.value === undefined)
    return {
      ...base(cond),
      holds: undefined,
      needs: "felix-configuration",
      source: r.source,
      message: `${cond.feature} unknown: ${r.source}`,
    };
  const holds = r.value === cond.equals;
  if (r.assumed && !holds)
    return {
      ...base(cond),
      holds: undefined,
      assumed: true,
      needs: "felix-configuration",
      source: r.source,
      message: `${cond.feature} unknown: ${r.source}`,
    };
  return {
    ...base(cond),
    holds,
    assumed: r.assumed,
    value: r.value,
    source: r.source,
    ...(r.assumed ? { needs: "felix-configuration" } : {}),
    message: `${cond.feature}=${String(r.value)}: ${r.source}`,
  };
}

export function evaluateFactCondition(cond: Leaf, ctx: ConditionContext): ConditionResult {
  switch (cond.kind) {
    case "node-fact":
      return nodeField(cond, ctx);
    case "object-field":
      return objectField(cond, ctx);
    case "agent-fact":
      return agentFact(cond, ctx);
    case "felix-feature":
      return felixFeature(cond, ctx);
  }
}

function group(cond: GroupCondition, parts: ConditionResult[]): ConditionResult {
  const any = cond.kind === "any-of";
  const decisive = parts.filter((p) => p.holds === any);
  const open = parts.filter((p) => p.holds === undefined);
  const holds = decisive.length > 0 ? any : open.length > 0 ? undefined : !any;
  const shown = holds === undefined ? open : decisive.length > 0 ? decisive : parts;
  const word = holds === undefined ? "undecided" : holds ? "holds" : "does not hold";
  // The part that decided, preferring one read over one assumed.
  const withSource = shown.filter((p) => p.source !== undefined);
  const source =
    holds === undefined ? undefined : (withSource.find((p) => !p.assumed) ?? withSource[0])?.source;
  return {
    ...base(cond),
    holds,
    ...(holds !== undefined ? { value: holds } : {}),
    ...(source !== undefined ? { source } : {}),
    assumed: holds !== undefined && shown.some((p) => p.assumed),
    ...(holds === undefined ? { needs: open.map((p) => p.needs ?? p.id).join(",") } : {}),
    ...(shown.some((p) => p.unavailable === true) && holds === undefined ? { unavailable: true } : {}),
    message: `${word} (${any ? "any" : "all"} of ${cond.of.join(", ")}): ${shown.map((p) => `${p.id}: ${p.message}`).join("; ")}`,
  };
}

/** Fills in the all-of / any-of groups, each from the results of the conditions it names. */
export function evaluateGroups(
  conditions: readonly Condition[],
  leaves: readonly (ConditionResult | undefined)[],
): ConditionResult[] {
  const byId = new Map<string, ConditionResult>();
  leaves.forEach((r) => {
    if (r) byId.set(r.id, r);
  });
  const resolve = (id: string, depth: number): ConditionResult | undefined => {
    const known = byId.get(id);
    if (known) return known;
    const cond = conditions.find((c) => c.id === id);
    if (cond === undefined || (cond.kind !== "all-of" && cond.kind !== "any-of") || depth > conditions.length)
      return undefined;
    const parts = cond.of.flatMap((x) => {
      const r = resolve(x, depth + 1);
      return r ? [r] : [];
    });
    const r = group(cond, parts);
    byId.set(id, r);
    return r;
  };
  return conditions.flatMap((c) => {
    const r = resolve(c.id, 0);
    return r ? [r] : [];
  });
}
