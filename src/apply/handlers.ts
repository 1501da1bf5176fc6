// The one registry of step handlers, shared by apply and rollback: which handler carries out each
// step kind, and which kinds need the cluster. A new step kind is a line here (the table is keyed
// by every executable kind, so the build fails until it has one) and a handler class.

import type { StepKind } from "../model/plan.js";
import { ApplyError, type StepHandler } from "./executor.js";
import { FileHandler } from "./files.js";
import { KubeObjectHandler } from "./kube-objects.js";
import { RestartHandler, type RestartOptions } from "./restart.js";

/**
 * What the cluster handlers are built with: whatever they take (the restart handler takes the
 * same), so changing how a cluster is reached changes the handlers, not this registry's context.
 */
export type ClusterConnection = ConstructorParameters<typeof KubeObjectHandler>[0];

export interface HandlerContext {
  /** Which command holds the file locks: another run blocked by one is told "locked by cnidoctor rollback". */
  mode: "apply" | "rollback";
  /** The cluster and how restarts run there; absent when none was reached (file steps only). */
  cluster?: { connection: ClusterConnection; restart: RestartOptions };
}

/** Manual steps are shown, never executed: they have no handler. */
type ExecutableKind = Exclude<StepKind, "manual">;

interface HandlerSpec {
  needsCluster: boolean;
  make(ctx: HandlerContext): StepHandler;
}

const FILES: HandlerSpec = { needsCluster: false, make: (ctx) => new FileHandler(ctx.mode) };

const HANDLERS: Readonly<Record<ExecutableKind, HandlerSpec>> = {
  "file-edit": FILES,
  "file-write": FILES,
  "kube-patch": { needsCluster: true, make: (ctx) => new KubeObjectHandler(need(ctx).connection) },
  "rolling-restart": {
    needsCluster: true,
    make: (ctx) => new RestartHandler(need(ctx).connection, need(ctx).restart),
  },
};

/** A step kind no handler carries out, or one that needs a cluster the context lacks. */
export class NoHandlerError extends ApplyError {}

function need(ctx: HandlerContext): NonNullable<HandlerContext["cluster"]> {
  // handlersFor checks needsCluster before make; this only keeps the types honest.
  if (ctx.cluster === undefined) throw new NoHandlerError("no cluster connection");
  return ctx.cluster;
}

function specFor(kind: string): HandlerSpec {
  const spec = Object.hasOwn(HANDLERS, kind) ? HANDLERS[kind as ExecutableKind] : undefined;
  if (spec === undefined)
    throw new NoHandlerError(
      `no handler for step kind '${kind}' (handled: ${Object.keys(HANDLERS).join(", ")}; manual steps are never executed)`,
    );
  return spec;
}

const executable = (kinds: Iterable<string>): string[] => [...new Set(kinds)].filter((k) => k !== "manual");

/** Whether carrying out steps of these kinds needs the cluster. Throws NoHandlerError for a kind with no handler. */
export function needsCluster(kinds: Iterable<string>): boolean {
  return executable(kinds).some((k) => specFor(k).needsCluster);
}

/**
 * The handlers for steps (or backup entries) of these kinds, one instance per handler however
 * many kinds it covers. Throws NoHandlerError, naming the kind, when a kind has no handler or
 * needs the cluster and the context has none; manual steps need no handler.
 */
export function handlersFor(kinds: Iterable<string>, ctx: HandlerContext): StepHandler[] {
  const made = new Map<HandlerSpec, StepHandler>();
  for (const kind of executable(kinds)) {
    const spec = specFor(kind);
    if (made.has(spec)) continue;
    if (spec.needsCluster && ctx.cluster === undefined)
      throw new NoHandlerError(`step kind '${kind}' needs the cluster, and no cluster connection was given`);
    made.set(spec, spec.make(ctx));
  }
  return [...made.values()];
}
