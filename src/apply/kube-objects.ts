// kube-patch steps through the generic object API: read, server-side dry-run, merge or strategic
// merge patch (or create when missing), and undo by replacing the object with its backup (or
// deleting what the apply created). Backups are the object as fetched minus server-managed fields.

import { timedOut, type ApiFailure, type ApiResult, type KubeClient } from "../kube/client.js";
import type { JsonValue, KubeObjectRef, KubePatchStep, Step } from "../model/plan.js";
import { unifiedDiff } from "../remediate/diff.js";
import type { BackupEntry, BackupSession } from "./backup-store.js";
import type { StepHandler } from "./executor.js";

type Obj = Record<string, unknown>;

export const FIELD_MANAGER = "cnidoctor";

/** Fields the server owns; dropped from backups and from comparisons. */
export function withoutServerFields(o: Obj): Obj {
  const copy = JSON.parse(JSON.stringify(o)) as Obj;
  delete copy.status;
  const server = new Set([
    "resourceVersion",
    "uid",
    "creationTimestamp",
    "generation",
    "managedFields",
    "selfLink",
  ]);
  const meta = Object.fromEntries(
    Object.entries((copy.metadata ?? {}) as Obj).filter(([k]) => !server.has(k)),
  );
  const ann = meta.annotations as Record<string, string> | undefined;
  if (ann !== undefined) {
    delete ann["deprecated.daemonset.template.generation"];
    if (Object.keys(ann).length === 0) delete meta.annotations;
  }
  copy.metadata = meta;
  return copy;
}

function header(ref: KubeObjectRef): Obj & { metadata: { name: string; namespace?: string } } {
  return {
    apiVersion: ref.apiVersion,
    kind: ref.kind,
    metadata: { name: ref.name, ...(ref.namespace !== undefined ? { namespace: ref.namespace } : {}) },
  };
}

/** Where the object's collection lives: /api/v1 or /apis/GROUP/VERSION, then its namespace. */
function collectionPath(ref: KubeObjectRef): string {
  const base = ref.apiVersion.includes("/") ? `/apis/${ref.apiVersion}` : `/api/${ref.apiVersion}`;
  const ns = ref.namespace !== undefined ? `/namespaces/${encodeURIComponent(ref.namespace)}` : "";
  return `${base}${ns}/${ref.plural}`;
}

function objectPath(ref: KubeObjectRef): string {
  return `${collectionPath(ref)}/${encodeURIComponent(ref.name)}`;
}

export function describeRef(ref: KubeObjectRef): string {
  return `${ref.kind} ${ref.namespace !== undefined ? `${ref.namespace}/` : ""}${ref.name}`;
}

/** Follows a path of keys and {name} selectors (list items by name). */
export function valueAt(o: unknown, path: KubePatchStep["expect"][number]["path"]): unknown {
  let cur: unknown = o;
  for (const p of path) {
    if (typeof p === "string") cur = typeof cur === "object" && cur !== null ? (cur as Obj)[p] : undefined;
    else cur = Array.isArray(cur) ? (cur as Obj[]).find((x) => x.name === p.name) : undefined;
  }
  return cur;
}

function sameJson(a: unknown, b: JsonValue): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** JSON with keys sorted, so two renderings of one object compare equal whatever the key order. */
function canonicalJson(v: unknown): string {
  const sortKeys = (x: unknown): unknown =>
    Array.isArray(x)
      ? x.map(sortKeys)
      : typeof x === "object" && x !== null
        ? Object.fromEntries(
            Object.keys(x)
              .sort()
              .map((k) => [k, sortKeys((x as Obj)[k])]),
          )
        : x;
  return `${JSON.stringify(sortKeys(v), null, 2)}\n`;
}

function resourceVersionOf(o: Obj | undefined): string | undefined {
  const rv = (o?.metadata as Obj | undefined)?.resourceVersion;
  return typeof rv === "string" ? rv : undefined;
}

function asPatchStep(step: Step): KubePatchStep {
  if (step.kind !== "kube-patch") throw new Error(`not a kube-patch step: ${step.id}`);
  return step;
}

export class KubeObjectHandler implements StepHandler {
  readonly kinds = ["kube-patch"] as const;
  private readonly noAnswer: string;

  constructor(private readonly client: KubeClient) {
    this.noAnswer = `no answer within ${client.timeoutMs / 1000} s (--request-timeout)`;
  }

  /** The API's message, or that no answer came in time. */
  private problem(f: ApiFailure): string {
    return timedOut(f) ? this.noAnswer : f.message !== "" ? f.message : f.problem;
  }

  /** The answer, or an Error naming what was being done and what went wrong. */
  private answer(r: ApiResult<Obj>, what: string): Obj {
    if (r.ok) return r.value;
    throw new Error(`${what}: ${this.problem(r)}`);
  }

  /** The live object as plain JSON, or undefined when it does not exist. */
  async read(ref: KubeObjectRef): Promise<Obj | undefined> {
    const r = await this.client.getJson(objectPath(ref));
    if (!r.ok && r.status === 404) return undefined;
    return this.answer(r, `reading ${describeRef(ref)}`);
  }

  async inspect(step: Step): Promise<"applied" | "pending"> {
    const s = asPatchStep(step);
    const live = await this.read(s.target);
    if (live === undefined) return "pending";
    return s.expect.every((x) => sameJson(valueAt(live, x.path), x.value)) ? "applied" : "pending";
  }

  /** Patches (or creates) the object; returns it as the server left it (or would, in a dry-run). */
  private async change(s: KubePatchStep, dryRun: boolean): Promise<Obj> {
    const live = await this.read(s.target);
    const o = { dryRun, fieldManager: FIELD_MANAGER };
    let r: ApiResult<Obj>;
    if (live === undefined) {
      if (s.createIfMissing === undefined) throw new Error(`${describeRef(s.target)} does not exist`);
      r = await this.client.create(collectionPath(s.target), s.createIfMissing, o);
    } else {
      const body = { ...header(s.target), ...s.patch, metadata: { ...header(s.target).metadata } };
      const type = s.patchType === "merge" ? "merge" : "strategic";
      r = await this.client.patch(objectPath(s.target), body, type, o);
    }
    if (r.ok) return r.value;
    if (!dryRun && timedOut(r))
      throw new Error(
        `${live !== undefined ? "patching" : "creating"} ${describeRef(s.target)}: ${this.noAnswer}; the change may or may not have been made (the backup holds the object as it was)`,
      );
    throw new Error(`${dryRun ? "server-side dry-run of " : ""}${describeRef(s.target)}: ${this.problem(r)}`);
  }

  async rehearse(step: Step): Promise<void> {
    await this.change(asPatchStep(step), true);
  }

  async backup(step: Step, session: BackupSession): Promise<BackupEntry> {
    const s = asPatchStep(step);
    const live = await this.read(s.target);
    const blob =
      live === undefined
        ? undefined
        : await session.putBlob(`${s.id}.json`, `${JSON.stringify(withoutServerFields(live), null, 2)}\n`);
    return {
      stepId: s.id,
      kind: s.kind,
      state: "backed-up",
      object: { ref: s.target, existed: live !== undefined, ...(blob !== undefined ? { blob } : {}) },
    };
  }

  async apply(step: Step, entry: BackupEntry, session: BackupSession): Promise<string> {
    const s = asPatchStep(step);
    const before = await this.read(s.target);
    const o = entry.object;
    // The object must still be what was backed up: a change in between would be lost on rollback.
    if (o !== undefined && (before === undefined) !== !o.existed)
      throw new Error(
        `${describeRef(s.target)}: ${o.existed ? "deleted" : "created"} by someone else while apply ran; nothing changed — run plan again`,
      );
    if (o?.blob !== undefined && before !== undefined) {
      const saved = (await session.getBlob(o.blob)).toString("utf8");
      if (canonicalJson(JSON.parse(saved)) !== canonicalJson(withoutServerFields(before)))
        throw new Error(
          `${describeRef(s.target)}: changed by someone else while apply ran; nothing changed — run plan again`,
        );
    }
    // Saved before the write: if its answer is lost, rollback still recognises the result as ours.
    if (o !== undefined) {
      const intended = await this.change(s, true);
      o.intendedBlob = await session.putBlob(
        `${s.id}.intended.json`,
        canonicalJson(withoutServerFields(intended)),
      );
      await session.save();
    }
    // The write's answer is the object as the server left it (no read-back that could time out).
    const after = await this.change(s, false);
    if (o !== undefined) {
      o.appliedBlob = await session.putBlob(
        `${s.id}.applied.json`,
        canonicalJson(withoutServerFields(after)),
      );
      const rv = resourceVersionOf(after);
      if (rv !== undefined) o.appliedResourceVersion = rv;
    }
    return `${before !== undefined ? `patched (${s.patchType})` : "created"} ${describeRef(s.target)}`;
  }

  async conflict(entry: BackupEntry, session: BackupSession): Promise<string | undefined> {
    const o = entry.object;
    if (o === undefined) return `${entry.stepId}: backup has no object record`;
    const live = await this.read(o.ref);
    // What rollback may overwrite without asking: apply's own result, or (when apply stopped before
    // recording it) the original, which means apply never changed it.
    // The dry-run's prediction, when apply never got the write's answer.
    const intended =
      o.appliedBlob === undefined && o.intendedBlob !== undefined
        ? (await session.getBlob(o.intendedBlob)).toString("utf8")
        : undefined;
    const ours =
      o.appliedBlob !== undefined
        ? (await session.getBlob(o.appliedBlob)).toString("utf8")
        : o.blob !== undefined
          ? canonicalJson(JSON.parse((await session.getBlob(o.blob)).toString("utf8")))
          : undefined;
    if (live === undefined)
      return ours === undefined
        ? undefined
        : `${describeRef(o.ref)}: deleted since apply changed it; rollback would re-create it (pass --force to restore it anyway)`;
    const current = canonicalJson(withoutServerFields(live));
    if (intended !== undefined && current === intended) return undefined;
    if (ours === undefined)
      return o.appliedBlob === undefined && !o.existed
        ? `${describeRef(o.ref)}: exists but apply stopped before recording that it created it; pass --force to delete it anyway`
        : undefined;
    if (current === ours) return undefined;
    // Already as backed up (a rollback stopped after its write, before its record): nothing to lose.
    if (
      o.blob !== undefined &&
      current === canonicalJson(JSON.parse((await session.getBlob(o.blob)).toString("utf8")))
    )
      return undefined;
    return `${describeRef(o.ref)}: changed since apply (resourceVersion ${resourceVersionOf(live) ?? "?"}, apply left ${o.appliedResourceVersion ?? "?"}); rollback would discard that change (pass --force to restore the backup anyway)\n${unifiedDiff(ours, current, describeRef(o.ref))}`;
  }

  async undo(entry: BackupEntry, session: BackupSession): Promise<string> {
    const o = entry.object;
    if (o === undefined) throw new Error(`${entry.stepId}: backup has no object record`);
    const live = await this.read(o.ref);
    if (!o.existed || o.blob === undefined) {
      if (live === undefined) return `${describeRef(o.ref)} absent, as before`;
      this.answer(await this.client.delete(objectPath(o.ref)), `deleting ${describeRef(o.ref)}`);
      return `deleted ${describeRef(o.ref)} (it did not exist before)`;
    }
    const saved = JSON.parse((await session.getBlob(o.blob)).toString("utf8")) as Obj;
    const restoring = `restoring ${describeRef(o.ref)}`;
    if (live === undefined) {
      this.answer(
        await this.client.create(collectionPath(o.ref), saved, { fieldManager: FIELD_MANAGER }),
        restoring,
      );
      return `re-created ${describeRef(o.ref)} from the backup`;
    }
    const meta = {
      ...((saved.metadata ?? {}) as Obj),
      resourceVersion: (live.metadata as Obj).resourceVersion,
    };
    this.answer(
      await this.client.replace(
        objectPath(o.ref),
        { ...saved, metadata: meta },
        { fieldManager: FIELD_MANAGER },
      ),
      restoring,
    );
    return `restored ${describeRef(o.ref)} from the backup`;
  }
}
