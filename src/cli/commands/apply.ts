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
import { scanPodLog } from "../../collect/live/logs.js";
import { compileSignatures } from "../../logs/index.js";
import type { Plan, Step } from "../../model/plan.js";
import { restartStep, rollingRestartPlanner } from "../../remediate/rolling-restart.js";
import { bundleFleet } from "./fleet-options.js";
import type { ParsedArgs } from "../parse-flags.js";
import { flagText, flagValue } from "../flag-access.js";
import { liveSettings } from "./live-options.js";
import { livePostCheck, postCheckBaseline, type PostCheckBaseline } from "./apply-postcheck.js";
import {
  clusterClientFor,
  gatherFacts,
  makePlan,
  planOptions,
  chosenAdvisories,
  oneAdvisory,
  nothingFound,
  unreadLine,
  unreadParts,
  type Facts,
} from "./remediate-shared.js";
import { renderPlanText } from "../../report/plan.js";
import type { Command, CommandResult, Runtime } from "./types.js";

/** Exit code when a step failed after changes began: the printed backup ID rolls them back. */
export const EXIT_APPLY_FAILED = 5;

function onlyList(args: ParsedArgs): string[] | undefined {
  // `--only ""` (or only commas) names no step: the plan's default steps, as without --only.
  const v = flagValue(args, "only");
  return v !== undefined && flagText(args, "only") !== "" ? v : undefined;
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
  // Only advisories that list the restart as a remediation can be restarted for.
  const restartable = (await chosenAdvisories(args)).filter((a) =>
    a.remediations.some((r) => rollingRestartPlanner.implements.includes(r.id)),
  );
  const [advisory, another] = restartable;
  if (advisory === undefined || another !== undefined)
    throw new UsageError(
      advisory === undefined
        ? "--daemonset: no loaded advisory lists a rolling restart; choose one that does with --advisory"
        : "--daemonset: several advisories are loaded; choose one with --advisory",
    );
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

/** The step handlers, and how to close the API client they share (a no-op without one). */
async function handlersOf(
  args: ParsedArgs,
  rt: Runtime,
  facts: Facts,
  plan: Plan,
  only: string[] | undefined,
): Promise<{ handlers: StepHandler[]; close: () => void }> {
  const kinds = selectSteps(plan, only).map((s) => s.kind);
  if (!needsCluster(kinds))
    return { handlers: handlersFor(kinds, { mode: "apply" }), close: () => undefined };
  if (flagValue(args, "bundle") !== undefined)
    throw new UsageError(
      "apply: API changes need the live cluster, not --bundle (use --kubeconfig/--context)",
    );
  const { bounds } = liveSettings(args);
  const client = await clusterClientFor(args, rt);
  let handlers: StepHandler[];
  try {
    handlers = handlersFor(kinds, {
      mode: "apply",
      cluster: {
        connection: client,
        restart: {
          advisoryId: facts.advisory.id,
          // --only-symptomatic reads each pod's log as the live collector does, within --since/--log-bytes.
          scanLog: (target, container) =>
            scanPodLog(client, target, { container, signatures: facts.signatures, bounds }),
          holder: `cnidoctor@${hostname()}/${process.pid}`,
          ...(rt.progress ? { progress: rt.progress } : {}),
        },
      },
    });
  } catch (e) {
    client.close();
    throw e;
  }
  return { handlers, close: () => client.close() };
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

/** A change is confirmed, backed up and checked per cluster: a fleet is planned, not applied. */
async function refuseFleet(args: ParsedArgs): Promise<void> {
  const flag = (["all-contexts", "contexts", "context-pattern"] as const).find(
    (n) => args.given?.has(n) === true,
  );
  if (flag !== undefined)
    throw new UsageError(
      `apply: apply changes one cluster at a time: give --context NAME instead of --${flag} (plan --${flag} shows every cluster's plan)`,
    );
  const dir = flagValue(args, "bundle");
  if (dir !== undefined && (await bundleFleet(dir)) !== undefined)
    throw new UsageError(
      `apply: apply changes one cluster at a time: ${dir} holds several bundles; give one of them (plan --bundle ${dir} shows every cluster's plan)`,
    );
}

async function apply(args: ParsedArgs, rt: Runtime): Promise<CommandResult> {
  if (args.positionals.length > 0)
    throw new UsageError(`apply: unexpected argument '${args.positionals[0] ?? ""}'`);
  await refuseFleet(args);
  const rke = flagValue(args, "rke-config");
  if (rke === "-")
    throw new UsageError(
      "apply: --rke-config - (stdin) cannot be applied: apply edits cluster.yml in place and backs it up first; give its path (plan --rke-config - previews the change)",
    );
  // The state directory's default depends on the environment ($XDG_STATE_HOME), so it is computed.
  const stateDir = flagValue(args, "state-dir") ?? defaultStateDir(rt.env);
  // A killed earlier apply's leftovers go first: its lock would otherwise be in this run's way.
  await cleanUp(rt, async () =>
    mergeCleanups([
      await sweepPartialBackups(stateDir, rt.now),
      await sweepFileLeftovers(rke !== undefined ? [rke] : [], [planOptions(args).outputDir]),
    ]),
  );
  const only = onlyList(args);
  const ds = flagValue(args, "daemonset");
  let plan: Plan;
  let facts: Facts;
  if (ds !== undefined && ds !== "") ({ plan, facts } = await daemonSetPlan(args, rt, ds));
  else {
    const all = await gatherFacts(args, rt);
    if (nothingFound(all)) return nothingToApply(all, rt.now);
    facts = oneAdvisory("apply", all);
    plan = await makePlan(args, rt, facts);
  }
  // A partial read comes first: a step it hid is not "no step … in the plan" (bad usage).
  const unread = unreadParts(facts, rt.now);
  if (unread.length > 0)
    return {
      stdout: renderPlanText(plan, new Set(selectSteps(plan, undefined).map((s) => s.id))),
      stderr: unreadLine("apply", unread, "nothing changed"),
      exitCode: 4,
    };
  let built: { handlers: StepHandler[]; close: () => void };
  try {
    built = await handlersOf(args, rt, facts, plan, only);
  } catch (e) {
    if (e instanceof ApplyError) throw new UsageError(`apply: ${e.message}`);
    throw e;
  }
  try {
    return await confirmAndApply(args, rt, { plan, facts, handlers: built.handlers, stateDir, only });
  } finally {
    built.close();
  }
}

/**
 * No loaded advisory found anything: nothing is applied (exit 0), unless a part of the cluster
 * could not be read, which leaves that open (exit 4, as a plan on a partial read).
 */
function nothingToApply(all: readonly Facts[], now: Date): CommandResult {
  const ids = all.map((f) => f.advisory.id).join(", ");
  const unread = [...new Set(all.flatMap((f) => unreadParts(f, now)))];
  if (unread.length > 0)
    return { stdout: "", stderr: unreadLine("apply", unread, "nothing changed"), exitCode: 4 };
  return {
    stdout: "",
    stderr: `cnidoctor: apply: nothing is affected or at risk (${ids} checked); nothing changed. To apply one advisory's hardening steps anyway, name it with --advisory ID (see cnidoctor plan).`,
    exitCode: 0,
  };
}

async function confirmAndApply(
  args: ParsedArgs,
  rt: Runtime,
  c: { plan: Plan; facts: Facts; handlers: StepHandler[]; stateDir: string; only: string[] | undefined },
): Promise<CommandResult> {
  const { plan, facts, handlers, stateDir, only } = c;
  const preview = summary(plan, only);
  if (!flagValue(args, "yes")) {
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
