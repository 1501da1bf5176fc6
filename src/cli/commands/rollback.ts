import { UsageError } from "../../errors.js";
import { defaultStateDir, BackupSession, sweepPartialBackups } from "../../apply/backup-store.js";
import { sweepFileLeftovers } from "../../apply/sweep.js";
import { mergeCleanups } from "../../io/leftovers.js";
import { cleanUp } from "./cleanup.js";
import { rollback as rollbackBackup, type StepHandler } from "../../apply/executor.js";
import { handlersFor, needsCluster, NoHandlerError } from "../../apply/handlers.js";
import { LockedError } from "../../apply/lock.js";
import type { ParsedArgs } from "../parse-flags.js";
import { flagValue } from "../flag-access.js";
import { advisoryById, clusterClientFor } from "./remediate-shared.js";
import type { Command, CommandResult, Runtime } from "./types.js";

/**
 * The handlers for the backup's entries, and how to close the API client they share; the cluster is
 * reached only when an entry needs it.
 */
async function handlersOf(
  args: ParsedArgs,
  rt: Runtime,
  kinds: string[],
  advisoryId: string,
): Promise<{ handlers: StepHandler[]; close: () => void }> {
  try {
    if (!needsCluster(kinds))
      return { handlers: handlersFor(kinds, { mode: "rollback" }), close: () => undefined };
    // The advisory the apply was for, as its backup records it.
    const advisory = await advisoryById(args, advisoryId);
    const client = await clusterClientFor(args, rt);
    try {
      const handlers = handlersFor(kinds, {
        mode: "rollback",
        cluster: { connection: client, restart: { advisoryId: advisory.id, holder: "cnidoctor-rollback" } },
      });
      return { handlers, close: () => client.close() };
    } catch (e) {
      client.close();
      throw e;
    }
  } catch (e) {
    // A kind this build has no handler for: a backup written by another cnidoctor version.
    if (e instanceof NoHandlerError) throw new UsageError(`rollback: ${e.message}`);
    throw e;
  }
}

async function run(args: ParsedArgs, rt: Runtime): Promise<CommandResult> {
  const [id, extra] = args.positionals;
  if (id === undefined || extra !== undefined)
    throw new UsageError("rollback: give exactly one backup ID (printed by apply as `backup: ID`)");
  // The state directory's default depends on the environment ($XDG_STATE_HOME), so it is computed.
  const stateDir = flagValue(args, "state-dir") ?? defaultStateDir(rt.env);
  // What a killed apply or rollback left: backup husks, and locks and temporaries beside the
  // files this backup restores (read from its manifest; an unreadable one is reported below).
  await cleanUp(rt, async () => {
    const files = await BackupSession.open(stateDir, id).then(
      (s) => s.manifest.entries.flatMap((e) => (e.file !== undefined ? [e.file.path] : [])),
      () => [] as string[],
    );
    return mergeCleanups([await sweepPartialBackups(stateDir, rt.now), await sweepFileLeftovers(files)]);
  });
  const session = await BackupSession.open(stateDir, id);
  const lines = session.manifest.entries.map((e) => `  ${e.stepId} (${e.kind}, ${e.state})`);
  const preview = `backup ${id} (${session.manifest.status}, ${session.manifest.createdAt}) restores:\n${lines.join("\n")}\n`;
  if (!flagValue(args, "yes")) {
    const ok = rt.confirm !== undefined && (await rt.confirm(`${preview}Roll back? [y/N] `));
    if (!ok)
      return {
        stdout: preview,
        stderr: "cnidoctor: rollback: nothing changed (pass --yes, or confirm on a terminal)",
        exitCode: 2,
      };
  }
  const built = await handlersOf(
    args,
    rt,
    session.manifest.entries.map((e) => e.kind),
    session.manifest.advisoryId,
  );
  const force = flagValue(args, "force");
  const r = await rollbackBackup(stateDir, id, built.handlers, { force })
    .catch((e: unknown) => {
      if (e instanceof LockedError) throw new UsageError(`rollback: ${e.message}`);
      throw e;
    })
    .finally(built.close);
  const conflicts = r.conflicts.map((c) => `CONFLICT        ${c.stepId}: ${c.message}`);
  if (conflicts.length > 0 && !force)
    return {
      stdout: `${conflicts.join("\n")}\n`,
      stderr: `cnidoctor: rollback: nothing restored: ${r.conflicts.length} target(s) changed since apply (see above); pass --force to restore over those changes`,
      exitCode: 2,
    };
  const out = [
    ...conflicts.map((c) => `${c.split("\n")[0] ?? ""} (overridden by --force)`),
    ...r.restored.map((x) => `restored        ${x.stepId}: ${x.detail}`),
    ...r.failures.map((x) => `FAILED          ${x.stepId}: ${x.message}`),
  ];
  if (r.failures.length > 0)
    return {
      stdout: `${out.join("\n")}\n`,
      stderr: `cnidoctor: rollback: ${r.failures.length} step(s) could not be restored`,
      exitCode: 5,
    };
  return { stdout: `${out.join("\n")}\nrolled back ${id}\n`, exitCode: 0 };
}

export const rollbackCommand: Command = {
  name: "rollback",
  usage: "cnidoctor rollback ID [--yes] [--force] [--state-dir DIR]",
  summary:
    "Restore every file (byte for byte) and object (as backed up) changed by the apply that printed `backup: ID`; stops when a target changed since.",
  examples: [
    "cnidoctor rollback 20240814T090136123Z-0000-1a2b3c --yes",
    "cnidoctor rollback 20240814T090136123Z-0000-1a2b3c --yes --force",
  ],
  run,
};
