// Turns the live-access flags (--kubeconfig, --context, --since, --log-bytes, --concurrency, --qps,
// --burst, --request-timeout, --timeout, --resource-sample, --nodes) into the live collector's
// settings and a connected client. Values and defaults come from the flag table (flags.ts).

import { execFile, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { InputError, UsageError } from "../../errors.js";
import { flagValue } from "../flag-access.js";
import type { ResolvedEndpoint } from "../../kube/endpoint.js";
import { KubeClient } from "../../kube/client.js";
import type { LogBounds } from "../../collect/live/logs.js";
import type { Target } from "../../pipeline.js";
import type { ParsedArgs } from "../parse-flags.js";
import type { FleetEndpoint, LoaderReply, LoaderRequest } from "../kube-loader.js";
import { toolVersion } from "../version.js";
import type { Runtime } from "./types.js";

export interface LiveSettings {
  bounds: LogBounds;
  concurrency: number;
  qps: number;
  burst: number;
  timeoutMs: number;
  /** Overall deadline of the read (--timeout): what is not read by then becomes a coverage gap. */
  deadlineMs: number;
  sampleSeconds: number;
  nodeSelector?: string;
}

/** --since on a live command: a duration back from now (an RFC 3339 time was turned into one). */
function sinceSeconds(args: ParsedArgs): number {
  const since = flagValue(args, "since");
  if (since === undefined || !("beforeEnd" in since))
    throw new Error(`${args.command}: --since has no duration back from now`);
  return since.beforeEnd / 1000;
}

export function liveSettings(args: ParsedArgs): LiveSettings {
  // Read in the order the checks always ran, so the first bad flag is the one reported.
  const bounds = { sinceSeconds: sinceSeconds(args), limitBytes: flagValue(args, "log-bytes") };
  const concurrency = flagValue(args, "concurrency");
  const qps = flagValue(args, "qps");
  const burst = flagValue(args, "burst");
  const timeoutMs = flagValue(args, "request-timeout") * 1000;
  const deadlineMs = flagValue(args, "timeout") * 1000;
  const sampleSeconds = flagValue(args, "resource-sample");
  const nodes = flagValue(args, "nodes");
  return {
    bounds,
    concurrency,
    qps,
    burst,
    timeoutMs,
    deadlineMs,
    sampleSeconds,
    ...(nodes !== undefined && nodes !== "" ? { nodeSelector: nodes } : {}),
  };
}

/**
 * The endpoint of the user's kubeconfig/context or the in-cluster service account, resolved by
 * kube-loader.js in a child process (same errors, same exit codes as resolving it here).
 */
/**
 * Runs a child in a process group of its own and ends the whole group once it exits or times out,
 * so an exec credential plugin still hanging when the loader has answered (it gave up on that
 * context) is not left behind.
 */
function runInOwnGroup(
  file: string,
  argv: string[],
  env: NodeJS.ProcessEnv,
  timeoutMs: number,
): Promise<{ ok: boolean; stdout: string; stderr: string; killed: boolean; code: number | null }> {
  return new Promise((resolve) => {
    const child = spawn(file, argv, { env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (d: Buffer) => out.push(d));
    child.stderr.on("data", (d: Buffer) => err.push(d));
    let killed = false;
    const endGroup = (): void => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, "SIGKILL");
      } catch {
        // the group is gone already
      }
    };
    const timer = setTimeout(() => {
      killed = true;
      endGroup();
    }, timeoutMs);
    const done = (code: number | null): void => {
      clearTimeout(timer);
      endGroup();
      resolve({
        ok: code === 0 && !killed,
        stdout: Buffer.concat(out).toString("utf8"),
        stderr: Buffer.concat(err).toString("utf8"),
        killed,
        code,
      });
    };
    // A plugin left running may hold the loader's stderr open: end the group when the loader
    // exits, and the pipes close with it.
    child.on("exit", endGroup);
    child.on("error", () => done(null));
    child.on("close", done);
  });
}

/**
 * The contexts a fleet selector picks from the merged kubeconfig, each with its endpoint or the
 * reason its credentials could not be loaded, from one loader child. A selection of nothing, a
 * named context that is not there, or no kubeconfig at all is bad usage (exit 2); a child that
 * dies or hangs past `timeoutMs` leaves every context without credentials (the caller decides).
 */
export async function resolveFleetOutOfProcess(
  request: NonNullable<LoaderRequest["fleet"]>,
  env: NodeJS.ProcessEnv,
  timeoutMs: number,
): Promise<FleetEndpoint[]> {
  const script = fileURLToPath(new URL("../kube-loader.js", import.meta.url));
  const r = await runInOwnGroup(
    process.execPath,
    [script, JSON.stringify({ fleet: request } satisfies LoaderRequest)],
    env,
    timeoutMs,
  );
  if (!r.ok) {
    const first = r.stderr.trim().split("\n")[0] ?? "";
    throw new InputError(
      "could not read the kubeconfig",
      r.killed
        ? `resolving the contexts' credentials did not finish within ${Math.round(timeoutMs / 1000)} s`
        : `resolving the contexts' credentials failed: ${first !== "" ? first : `exit code ${String(r.code ?? "unknown")}`}`,
    );
  }
  const stdout = r.stdout;
  let reply: LoaderReply;
  try {
    reply = JSON.parse(stdout) as LoaderReply;
  } catch {
    throw new InputError("could not read the kubeconfig", "the kubeconfig loader gave no answer");
  }
  if (reply.ok && reply.fleet !== undefined) return reply.fleet;
  if (reply.ok) throw new InputError("could not read the kubeconfig", "the kubeconfig loader gave no answer");
  if (reply.error === "UsageError") throw new UsageError(reply.message);
  if (reply.error === "InputError") throw new InputError(reply.where ?? "", reply.problem ?? reply.message);
  throw new InputError("could not read the kubeconfig", (reply.message.split("\n")[0] ?? "").trim());
}

export async function resolveEndpointOutOfProcess(
  request: NonNullable<LoaderRequest["endpoint"]>,
  env: NodeJS.ProcessEnv,
  timeoutMs = 45_000,
  /** Set when `timeoutMs` is what is left of the overall --timeout (named in the message). */
  overallSeconds?: number,
): Promise<ResolvedEndpoint> {
  const script = fileURLToPath(new URL("../kube-loader.js", import.meta.url));
  const stdout = await new Promise<string>((resolve, reject) => {
    // The loader may run an exec credential plugin, which can hang: it is killed after the
    // request timeout plus a margin, and any failure is the user's credentials (exit 2, one line).
    execFile(
      process.execPath,
      [script, JSON.stringify({ endpoint: request } satisfies LoaderRequest)],
      { env, maxBuffer: 16 * 1024 * 1024, timeout: timeoutMs, killSignal: "SIGKILL" },
      (error, out, err) => {
        if (!error) return resolve(out);
        const killed = (error as { killed?: boolean }).killed === true;
        const first = err.trim().split("\n")[0] ?? "";
        reject(
          new InputError(
            "could not read the cluster",
            killed
              ? overallSeconds !== undefined
                ? `resolving the kubeconfig credentials (exec plugin?) did not finish within the overall --timeout of ${overallSeconds} s`
                : `resolving the kubeconfig credentials (exec plugin?) did not finish within ${Math.round(timeoutMs / 1000)} s`
              : `resolving the kubeconfig credentials failed: ${first !== "" ? first : `exit code ${String(error.code ?? "unknown")}`}`,
          ),
        );
      },
    );
  });
  let reply: LoaderReply;
  try {
    reply = JSON.parse(stdout) as LoaderReply;
  } catch {
    throw new InputError("could not read the cluster", "the kubeconfig loader gave no answer");
  }
  if (reply.ok && reply.endpoint !== undefined) return reply.endpoint;
  if (reply.ok) throw new InputError("could not read the cluster", "the kubeconfig loader gave no answer");
  if (reply.error === "UsageError") throw new UsageError(reply.message);
  if (reply.error === "InputError") throw new InputError(reply.where ?? "", reply.problem ?? reply.message);
  const line = (reply.message.split("\n")[0] ?? "").trim();
  throw new InputError(
    "could not read the cluster",
    `kubeconfig credentials: ${line !== "" ? line : "failed without a message"}`,
  );
}

/** Milliseconds left of the overall --timeout, counted from the command's start. */
function remainingMs(s: LiveSettings, startedAt: number): number {
  return Math.max(0, s.deadlineMs - (performance.now() - startedAt));
}

/**
 * Connects with the user's kubeconfig/context or the in-cluster service account. With the
 * overall deadline armed, the client is aborted when it runs out (`disarm` stops that), and
 * resolving the credentials is bounded by it too.
 */
export async function connect(
  args: ParsedArgs,
  rt: Runtime,
  s: LiveSettings,
): Promise<{ client: KubeClient; description: string; context: string; disarm: () => void }> {
  const kubeconfig = flagValue(args, "kubeconfig");
  const context = flagValue(args, "context");
  const startedAt = rt.startedAt ?? performance.now();
  const credentialsMs = s.timeoutMs + 15_000;
  const left = remainingMs(s, startedAt);
  const endpoint = await resolveEndpointOutOfProcess(
    {
      ...(kubeconfig !== undefined ? { kubeconfig } : {}),
      ...(context !== undefined ? { context } : {}),
    },
    rt.env,
    Math.max(1, Math.ceil(Math.min(credentialsMs, left))),
    left < credentialsMs ? s.deadlineMs / 1000 : undefined,
  );
  return {
    ...clientFor(endpoint, s, startedAt),
    description: endpoint.description,
    context: endpoint.context,
  };
}

/**
 * A client of a resolved endpoint with the live settings' bounds, aborted once the overall
 * --timeout counted from `startedAt` runs out (`disarm` stops that). A fleet makes one per cluster.
 */
export function clientFor(
  endpoint: ResolvedEndpoint,
  s: LiveSettings,
  startedAt: number,
): { client: KubeClient; disarm: () => void } {
  const client = KubeClient.fromEndpoint(endpoint, {
    timeoutMs: s.timeoutMs,
    qps: s.qps,
    burst: s.burst,
    maxSockets: Math.max(s.concurrency * 2, 8),
    userAgent: `cnidoctor/${toolVersion()}`,
  });
  // Past the overall --timeout every read is cut; what was not read is a coverage gap.
  const deadline = setTimeout(
    () => {
      client.abort(`the overall --timeout of ${s.deadlineMs / 1000} s ran out`);
    },
    remainingMs(s, startedAt),
  );
  return { client, disarm: () => clearTimeout(deadline) };
}

/**
 * The current cluster as a pipeline target: flags checked now, the connection made when the
 * pipeline reads it (and closed, with the --timeout timer disarmed, when it is done).
 */
export function liveTarget(args: ParsedArgs, rt: Runtime): Target {
  const settings = liveSettings(args);
  return {
    kind: "live",
    open: async () => {
      const { client, context, disarm } = await connect(args, rt, settings);
      return {
        client,
        context,
        close: () => {
          disarm();
          client.close();
        },
      };
    },
    read: {
      bounds: settings.bounds,
      concurrency: settings.concurrency,
      sampleSeconds: settings.sampleSeconds,
      ...(settings.nodeSelector !== undefined ? { nodeSelector: settings.nodeSelector } : {}),
    },
  };
}

/** Flags that only steer reading a live cluster (a bundle is read whole, from files). */
const LIVE_ONLY = [
  "kubeconfig",
  "context",
  "all-contexts",
  "contexts",
  "context-pattern",
  "since",
  "log-bytes",
  "concurrency",
  "qps",
  "burst",
  "request-timeout",
  "timeout",
  "resource-sample",
] as const;

/**
 * --nodes picks nodes of a live cluster; a bundle is read whole. Accepting it there would report
 * on every node while the user believes the report is about the ones selected. The other live-only
 * flags would be ignored just as silently (a --since window that was never applied), so they are
 * refused too.
 */
export function refuseLiveFlagsWithBundle(args: ParsedArgs, command: string): void {
  if (flagValue(args, "bundle") === undefined) return;
  if (flagValue(args, "nodes") !== undefined)
    throw new UsageError(
      `${command}: --nodes selects nodes of a live cluster; it cannot narrow --bundle (scan the whole bundle, or drop --bundle)`,
    );
  const name = LIVE_ONLY.find((n) => args.given?.has(n) === true);
  const live = name !== undefined ? (args.spelled?.[name] ?? name) : undefined;
  if (live !== undefined)
    throw new UsageError(
      `${command}: --${live} applies to reading a live cluster and has no effect with --bundle (drop --${live}, or drop --bundle)`,
    );
}
