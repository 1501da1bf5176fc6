// apply: plan, show what will change, confirm (--yes or a terminal prompt), rehearse, back up,
// change, then re-run the diagnosis and say whether node statuses improved.

import { hostname } from "node:os";
import { UsageError } from "../../errors.js";
import { defaultStateDir, sweepPartialBackups } from "../../apply/backup-store.js";
import { sweepFileLeftovers } from "../../apply/sweep.js";
import { mergeCleanups } from "../../io/leftovers.js";
import { cleanUp } from "./cleanup.js";
import { applyPlan, selectSteps, ApplyError, type StepHandler } from "../../apply/executor.js";
import { handlersFor, needsCluster } from "../../apply/handlers.js";
import { compileSignatures } from "../../logs/index.js";
import type { Plan, Step } from "../../model/plan.js";
import { restartStep } from "../../remediate/rolling-restart.js";
import type { ParsedArgs } from "../parse-flags.js";
import { livePostCheck, postCheckBaseline, type PostCheckBaseline } from "./apply-postcheck.js";
import {
  gatherFacts,
  kubeConfigFor,
  makePlan,
  planOptions,
  chosenAdvisories,
  oneAdvisory,
  unreadLine,
  unreadParts,
  type Facts,
} from "./remediate-shared.js";
import { renderPlanText } from "../../report/plan.js";
import type { Command, CommandResult, Runtime } from "./types.js";

/** Exit code when a step failed after changes began: the printed backup ID rolls them back. */
export const EXIT_APPLY_FAILED = 5;

function onlyList(args: ParsedArgs): string[] | undefined {
  const v = args.flags.only;
  return typeof v === "string" && v !== ""
    ? v
        .split(",")
        .map((x) => x.trim())
        .filter((x) => x !== "")
    : undefined;
}

/** --daemonset NS/NAME: the scheduled-restart mode, which reads nothing beyond that DaemonSet. */
async function daemonSetPlan(
  args: ParsedArgs,
  rt: Runtime,
  ref: string,
): Promise<{ plan: Plan; facts: Facts }> {
  const [namespace, name, extra] = ref.split("/");
  if (namespace === undefined || name === undefined || extra !== undefined || namespace === "" || name === "")
    throw new UsageError(`--daemonset must be NAMESPACE/NAME (got '${ref}')`);
  const [advisory, another] = await chosenAdvisories(args);
  if (advisory === undefined || another !== undefined)
    throw new UsageError("--daemonset: several advisories are loaded; choose one with --advisory");
  // Named on the command line, the restart is what this apply is for: it runs without --only
  // (as a plan's optional step it would be left out, and apply would end "nothing to change").
  const step = {
    ...restartStep({ advisory, options: planOptions(args) }, { namespace, name, container: "calico-node" }),
    default: true,
  };
  const plan: Plan = {
    schemaVersion: 1,
    advisoryId: advisory.id,
    createdAt: rt.now.toISOString(),
    inputs: [`DaemonSet ${ref}`],
    steps: [step],
    notes: [],
  };
  return { plan, facts: { advisory, signatures: compileSignatures([advisory]), inputs: plan.inputs } };
}

function handlersOf(
  args: ParsedArgs,
  rt: Runtime,
  facts: Facts,
  plan: Plan,
  only: string[] | undefined,
): StepHandler[] {
  const kinds = selectSteps(plan, only).map((s) => s.kind);
  if (!needsCluster(kinds)) return handlersFor(kinds, { mode: "apply" });
  if (typeof args.flags.bundle === "string")
    throw new UsageError(
      "apply: API changes need the live cluster, not --bundle (use --kubeconfig/--context)",
    );
  return handlersFor(kinds, {
    mode: "apply",
    cluster: {
      connection: kubeConfigFor(args, rt),
      restart: {
        signatures: facts.signatures,
        advisoryId: facts.advisory.id,
        holder: `cnidoctor@${hostname()}/${process.pid}`,
        ...(rt.progress ? { progress: rt.progress } : {}),
      },
    },
  });
}

function summary(plan: Plan, only: string[] | undefined): string {
  const chosen = new Set(selectSteps(plan, only).map((s) => s.id));
  return renderPlanText({ ...plan, steps: plan.steps.filter((s) => chosen.has(s.id)) }, chosen);
}

async function postCheck(
  args: ParsedArgs,
  rt: Runtime,
  facts: Facts,
  base: PostCheckBaseline | undefined,
  applied: Step[],
): Promise<string[]> {
  if (base === undefined) return ["post-check: skipped (no live cluster was read)"];
  return livePostCheck(args, rt, facts, base, applied);
}

async function apply(args: ParsedArgs, rt: Runtime): Promise<CommandResult> {
  if (args.positionals.length > 0)
    throw new UsageError(`apply: unexpected argument '${args.positionals[0] ?? ""}'`);
  if (args.flags["rke-config"] === "-")
    throw new UsageError(
      "apply: --rke-config - (stdin) cannot be applied: apply edits cluster.yml in place and backs it up first; give its path (plan --rke-config - previews the change)",
    );
  const stateDir =
    typeof args.flags["state-dir"] === "string" ? args.flags["state-dir"] : defaultStateDir(rt.env);
  // A killed earlier apply's leftovers go first: its lock would otherwise be in this run's way.
  const rke = args.flags["rke-config"];
  await cleanUp(rt, async () =>
    mergeCleanups([
      await sweepPartialBackups(stateDir, rt.now),
      await sweepFileLeftovers(typeof rke === "string" ? [rke] : [], [planOptions(args).outputDir]),
    ]),
  );
  const only = onlyList(args);
  const ds = args.flags.daemonset;
  const { plan, facts } =
    typeof ds === "string" && ds !== ""
      ? await daemonSetPlan(args, rt, ds)
      : await gatherFacts(args, rt).then(async (all) => {
          const f = oneAdvisory("apply", all);
          return { facts: f, plan: await makePlan(args, rt, f) };
        });
  // A partial read comes first: a step it hid is not "no step … in the plan" (bad usage).
  const unread = unreadParts(facts, rt.now);
  if (unread.length > 0)
    return {
      stdout: renderPlanText(plan, new Set(selectSteps(plan, undefined).map((s) => s.id))),
      stderr: unreadLine("apply", unread, "nothing changed"),
      exitCode: 4,
    };
  let handlers: StepHandler[];
  try {
    handlers = handlersOf(args, rt, facts, plan, only);
  } catch (e) {
    if (e instanceof ApplyError) throw new UsageError(`apply: ${e.message}`);
    throw e;
  }
  const preview = summary(plan, only);
  if (args.flags.yes !== true) {
    const ok = rt.confirm !== undefined && (await rt.confirm(`${preview}\nApply these changes? [y/N] `));
    if (!ok)
      return {
        stdout: preview,
        stderr: "cnidoctor: apply: nothing changed (pass --yes, or confirm on a terminal)",
        exitCode: 2,
      };
  }
  const base = await postCheckBaseline(args, rt, facts);
  try {
    return await applyAndCheck(args, rt, { plan, facts, handlers, stateDir, only, base });
  } finally {
    base?.release();
  }
}

async function applyAndCheck(
  args: ParsedArgs,
  rt: Runtime,
  c: {
    plan: Plan;
    facts: Facts;
    handlers: StepHandler[];
    stateDir: string;
    only: string[] | undefined;
    base: PostCheckBaseline | undefined;
  },
): Promise<CommandResult> {
  const { plan, facts, stateDir, only, base } = c;
  const out: string[] = [];
  const result = await applyPlan(plan, {
    stateDir,
    handlers: c.handlers,
    now: rt.now,
    ...(only ? { only } : {}),
  }).catch((e: unknown) => {
    if (e instanceof ApplyError) throw new UsageError(`apply: ${e.message}`);
    throw new UsageError(`apply: nothing changed: ${e instanceof Error ? e.message : String(e)}`);
  });
  for (const o of result.outcomes) out.push(`${o.result.padEnd(15)} ${o.stepId}: ${o.detail}`);
  if (result.backupId !== undefined) out.push(`backup: ${result.backupId}`);
  else out.push("nothing to change: every selected step is already applied or manual");
  if (result.failure !== undefined) {
    out.push(
      `apply stopped at ${result.failure.stepId}; undo what was changed with: cnidoctor rollback ${result.backupId ?? ""} --yes`,
    );
    return {
      stdout: `${out.join("\n")}\n`,
      stderr: `cnidoctor: apply: ${result.failure.message}`,
      exitCode: EXIT_APPLY_FAILED,
    };
  }
  const applied = plan.steps.filter((s) =>
    result.outcomes.some((o) => o.stepId === s.id && o.result === "applied"),
  );
  if (result.backupId !== undefined) out.push(...(await postCheck(args, rt, facts, base, applied)));
  return { stdout: `${out.join("\n")}\n`, exitCode: 0 };
}

export const applyCommand: Command = {
  name: "apply",
  usage: "cnidoctor apply [plan inputs] [--only ID,...] [--yes] [--state-dir DIR]",
  summary:
    "Apply the plan's default steps (or --only these): server-side dry-run, backup, change, post-check. Prints `backup: ID`.",
  examples: [
    "cnidoctor apply --rke-config cluster.yml --yes",
    "cnidoctor apply --context prod --only felix-disable-xdp",
    "cnidoctor apply --context prod --only restart-kube-system-canal --only-symptomatic --max-unavailable 2 --yes",
  ],
  run: apply,
};
