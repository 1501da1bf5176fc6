// Turns the live-access flags (--kubeconfig, --context, --since, --log-bytes, --concurrency, --qps,
// --burst, --request-timeout, --sample, --nodes) into checked values and a connected client.

import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { InputError, UsageError } from "../../errors.js";
import { parseDuration, parsePositive, parseSize, RANGES } from "../flag-values.js";
import type { ResolvedEndpoint } from "../../kube/endpoint.js";
import { KubeClient } from "../../kube/client.js";
import type { LogBounds } from "../../collect/live/logs.js";
import { collectLive } from "../../collect/live/collect-live.js";
import type { SignatureSet } from "../../logs/index.js";
import type { Snapshot } from "../../model/snapshot.js";
import type { ParsedArgs } from "../parse-flags.js";
import type { LoaderReply, LoaderRequest } from "../kube-loader.js";
import { toolVersion } from "../version.js";
import type { Runtime } from "./types.js";

export { parseDuration, parsePositive, parseSize } from "../flag-values.js";

function flag(args: ParsedArgs, name: string, fallback: string): string {
  const v = args.flags[name];
  return typeof v === "string" ? v : fallback;
}

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

export function liveSettings(args: ParsedArgs): LiveSettings {
  const nodes = args.flags.nodes;
  return {
    bounds: {
      sinceSeconds: Math.ceil(parseDuration(flag(args, "since", "1h"), "since", RANGES.since)),
      limitBytes: parseSize(flag(args, "log-bytes", "16Mi"), "log-bytes", RANGES.logBytes),
    },
    concurrency: parsePositive(flag(args, "concurrency", "16"), "concurrency", {
      integer: true,
      range: RANGES.concurrency,
    }),
    qps: parsePositive(flag(args, "qps", "100"), "qps", { integer: false, range: RANGES.qps }),
    burst: parsePositive(flag(args, "burst", "200"), "burst", { integer: true, range: RANGES.burst }),
    timeoutMs:
      parseDuration(flag(args, "request-timeout", "30s"), "request-timeout", RANGES.requestTimeout) * 1000,
    deadlineMs: parseDuration(flag(args, "timeout", "10m"), "timeout", RANGES.timeout) * 1000,
    sampleSeconds: parseDuration(flag(args, "sample", "0"), "sample", RANGES.sample),
    ...(typeof nodes === "string" && nodes !== "" ? { nodeSelector: nodes } : {}),
  };
}

/**
 * The endpoint of the user's kubeconfig/context or the in-cluster service account, resolved by
 * kube-loader.js in a child process (same errors, same exit codes as resolving it here).
 */
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
  const kubeconfig = args.flags.kubeconfig;
  const context = args.flags.context;
  const startedAt = rt.startedAt ?? performance.now();
  const credentialsMs = s.timeoutMs + 15_000;
  const left = remainingMs(s, startedAt);
  const endpoint = await resolveEndpointOutOfProcess(
    {
      ...(typeof kubeconfig === "string" ? { kubeconfig } : {}),
      ...(typeof context === "string" ? { context } : {}),
    },
    rt.env,
    Math.max(1, Math.ceil(Math.min(credentialsMs, left))),
    left < credentialsMs ? s.deadlineMs / 1000 : undefined,
  );
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
  return {
    client,
    description: endpoint.description,
    context: endpoint.context,
    disarm: () => clearTimeout(deadline),
  };
}

/** "nodes done/total" on stderr, only when the runtime has a progress hook (a TTY). */
export function progressReporter(
  rt: Runtime,
  what: string,
): ((done: number, total: number) => void) | undefined {
  const hook = rt.progress;
  if (!hook) return undefined;
  let lastShown = -1;
  return (done, total) => {
    const pct = Math.floor((done / Math.max(1, total)) * 100);
    if (pct === lastShown && done !== total) return;
    lastShown = pct;
    hook(`${what}: ${done}/${total} nodes`);
  };
}

/** Reads the current cluster into a Snapshot: connect, collect (with TTY progress), disconnect. */
export async function readLiveSnapshot(
  args: ParsedArgs,
  rt: Runtime,
  what: { container: string; signatures: SignatureSet },
): Promise<Snapshot> {
  const settings = liveSettings(args);
  const { client, context, disarm } = await connect(args, rt, settings);
  try {
    const progress = progressReporter(rt, `${what.container} logs`);
    return await collectLive(client, {
      container: what.container,
      signatures: what.signatures,
      now: rt.now,
      targetName: context,
      bounds: settings.bounds,
      concurrency: settings.concurrency,
      sampleSeconds: settings.sampleSeconds,
      ...(settings.nodeSelector !== undefined ? { nodeSelector: settings.nodeSelector } : {}),
      ...(progress ? { progress } : {}),
    });
  } finally {
    disarm();
    client.close();
  }
}

/** Flags that only steer reading a live cluster (a bundle is read whole, from files). */
const LIVE_ONLY = [
  "kubeconfig",
  "context",
  "since",
  "log-bytes",
  "concurrency",
  "qps",
  "burst",
  "request-timeout",
  "timeout",
  "sample",
] as const;

/**
 * --nodes picks nodes of a live cluster; a bundle is read whole. Accepting it there would report
 * on every node while the user believes the report is about the ones selected. The other live-only
 * flags would be ignored just as silently (a --since window that was never applied), so they are
 * refused too.
 */
export function refuseLiveFlagsWithBundle(args: ParsedArgs, command: string): void {
  if (typeof args.flags.bundle !== "string") return;
  if (typeof args.flags.nodes === "string")
    throw new UsageError(
      `${command}: --nodes selects nodes of a live cluster; it cannot narrow --bundle (scan the whole bundle, or drop --bundle)`,
    );
  const live = LIVE_ONLY.find((name) => args.given?.has(name) === true);
  if (live !== undefined)
    throw new UsageError(
      `${command}: --${live} applies to reading a live cluster and has no effect with --bundle (drop --${live}, or drop --bundle)`,
    );
}
