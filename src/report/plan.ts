// Writers for a remediation Plan (src/model/plan.ts): the terminal text `plan` and `apply` print,
// and Markdown for a change ticket. `-o json|yaml` serialise the Plan itself.

import type { Plan, Step } from "../model/plan.js";

/** How a step runs, in the words both writers use. `selected`: the steps apply would run. */
function stepTags(s: Step, selected: ReadonlySet<string>): string[] {
  return [
    s.kind,
    selected.has(s.id) ? "runs with apply" : s.kind === "manual" ? "not executed" : `opt-in: --only ${s.id}`,
    s.durable ? "durable" : "temporary",
    ...(s.alreadyApplied ? ["already applied"] : []),
  ];
}

function inputsOf(plan: Plan): string {
  return plan.inputs.join(", ") || "no inputs";
}

export function renderPlanText(plan: Plan, selected: ReadonlySet<string>): string {
  const out: string[] = [`Plan for ${plan.advisoryId} (${inputsOf(plan)})`];
  for (const n of plan.notes) out.push(`  ${n}`);
  out.push("");
  plan.steps.forEach((s, k) => {
    out.push(`${k + 1}. [${s.id}] ${s.title}`, `   (${stepTags(s, selected).join(", ")})`, `   ${s.summary}`);
    if (s.tradeoffs !== undefined) out.push(`   Trade-off: ${s.tradeoffs}`);
    for (const n of s.notes) out.push(`   ! ${n}`);
    if (s.kind === "manual") for (const i of s.instructions) out.push(`   > ${i}`);
    if (s.diff !== "")
      out.push(
        ...s.diff
          .trimEnd()
          .split("\n")
          .map((l) => `     ${l}`),
      );
    out.push("");
  });
  return `${out.join("\n")}\n`;
}

/** A code fence longer than any run of backticks in `text`, so the text cannot close it. */
function fenceFor(text: string): string {
  const longest = Math.max(0, ...[...text.matchAll(/`+/g)].map((m) => m[0].length));
  return "`".repeat(Math.max(3, longest + 1));
}

/** Inline code that survives backticks in the value. */
function inlineCode(text: string): string {
  const longest = Math.max(0, ...[...text.matchAll(/`+/g)].map((m) => m[0].length));
  const ticks = "`".repeat(longest + 1);
  return longest > 0 ? `${ticks} ${text} ${ticks}` : `${ticks}${text}${ticks}`;
}

/** One line of prose: newlines folded, so a sentence never breaks a list item. */
function prose(text: string): string {
  return text.replace(/\s*\n\s*/g, " ");
}

export function renderPlanMarkdown(plan: Plan, selected: ReadonlySet<string>): string {
  const out: string[] = [
    `# Remediation plan for ${plan.advisoryId}`,
    "",
    `Made from ${inputsOf(plan)} at ${plan.createdAt}. Read-only: \`cnidoctor apply\` makes the changes.`,
    "",
  ];
  if (plan.notes.length > 0) out.push(...plan.notes.map((n) => `- ${prose(n)}`), "");
  if (plan.steps.length === 0) out.push("No steps.", "");
  plan.steps.forEach((s, k) => {
    out.push(`## ${k + 1}. ${prose(s.title)}`, "");
    out.push(`Step ${inlineCode(s.id)}: ${stepTags(s, selected).join(", ")}.`, "", prose(s.summary), "");
    if (s.tradeoffs !== undefined) out.push(`**Trade-off:** ${prose(s.tradeoffs)}`, "");
    if (s.notes.length > 0) out.push(...s.notes.map((n) => `- **Note:** ${prose(n)}`), "");
    if (s.kind === "manual" && s.instructions.length > 0)
      out.push(...s.instructions.map((i, n) => `${n + 1}. ${prose(i)}`), "");
    if (s.diff !== "") {
      const fence = fenceFor(s.diff);
      out.push(`${fence}diff`, s.diff.trimEnd(), fence, "");
    }
  });
  return `${out.join("\n").trimEnd()}\n`;
}
