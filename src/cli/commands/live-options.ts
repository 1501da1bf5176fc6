// Turns the live-access flags (--kubeconfig, --context, --since, --log-bytes, --concurrency, --qps,
// --burst, --request-timeout, --sample, --nodes) into checked values and a connected client.

import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { InputError, UsageError } from "../../errors.js";
import type { ResolvedEndpoint } from "../../kube/endpoint.js";
import { KubeClient } from "../../collect/live/client.js";
import type { LogBounds } from "../../collect/live/logs.js";
import { collectLive } from "../../collect/live/collect-live.js";
import type { SignatureSet } from "../../logs/index.js";
import type { Snapshot } from "../../model/snapshot.js";
import type { ParsedArgs } from "../args.js";
import type { EndpointReply, EndpointRequest } from "../endpoint-loader.js";
import { toolVersion } from "../version.js";
import type { Runtime } from "./types.js";

const UNIT_SECONDS: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86400 };

/** "1h", "30m", "2h30m", "90s", "45" (seconds) → seconds. */
export function parseDuration(text: string, flag: string): number {
  const t = text.trim();
  if (/^\d+(\.\d+)?$/.test(t)) return Number(t);
  let total = 0;
  let rest = t;
  const part = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)/;
  for (let m = part.exec(rest); m; m = part.exec(rest)) {
    total += Number(m[1]) * (UNIT_SECONDS[m[2] ?? "s"] ?? 1);
    rest = rest.slice(m[0].length);
  }
  if (rest !== "" || t === "")
    throw new UsageError(`--${flag}: expected a duration like 30s, 15m, 1h (got '${text}')`);
  return total;
}

const SIZE: Record<string, number> = {
  "": 1,
  k: 1e3,
  K: 1e3,
  M: 1e6,
  G: 1e9,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  KB: 1e3,
  MB: 1e6,
  GB: 1e9,
  KiB: 2 ** 10,
  MiB: 2 ** 20,
  GiB: 2 ** 30,
};

/** "16Mi", "1Gi", "500000", "10MB" → bytes. */
export function parseSize(text: string, flag: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([A-Za-z]*)$/.exec(text.trim());
  const factor = m ? SIZE[m[2] ?? ""] : undefined;
  if (!m || factor === undefined)
    throw new UsageError(`--${flag}: expected a size like 16Mi, 1Gi or a byte count (got '${text}')`);
  return Math.floor(Number(m[1]) * factor);
}

export function parsePositive(
  text: string,
  flag: string,
  opts: { integer: boolean; allowZero?: boolean },
): number {
  const n = Number(text);
  const ok =
    text.trim() !== "" &&
    Number.isFinite(n) &&
    (opts.allowZero === true ? n >= 0 : n > 0) &&
    (!opts.integer || Number.isInteger(n));
  if (!ok)
    throw new UsageError(
      `--${flag}: expected ${opts.integer ? "a whole number" : "a number"}${opts.allowZero === true ? " ≥ 0" : " > 0"} (got '${text}')`,
    );
  return n;
}

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
  sampleSeconds: number;
  nodeSelector?: string;
}

export function liveSettings(args: ParsedArgs): LiveSettings {
  const nodes = args.flags.nodes;
  return {
    bounds: {
      sinceSeconds: parseDuration(flag(args, "since", "1h"), "since"),
      limitBytes: parseSize(flag(args, "log-bytes", "16Mi"), "log-bytes"),
    },
    concurrency: parsePositive(flag(args, "concurrency", "16"), "concurrency", { integer: true }),
    qps: parsePositive(flag(args, "qps", "100"), "qps", { integer: false }),
    burst: parsePositive(flag(args, "burst", "200"), "burst", { integer: true }),
    timeoutMs: parseDuration(flag(args, "request-timeout", "30s"), "request-timeout") * 1000,
    sampleSeconds: parseDuration(flag(args, "sample", "0"), "sample"),
    ...(typeof nodes === "string" && nodes !== "" ? { nodeSelector: nodes } : {}),
  };
}

/**
 * The endpoint of the user's kubeconfig/context or the in-cluster service account, resolved by
 * endpoint-loader.js in a child process (same errors, same exit codes as resolving it here).
 */
export async function resolveEndpointOutOfProcess(
  request: EndpointRequest,
  env: NodeJS.ProcessEnv,
): Promise<ResolvedEndpoint> {
  const script = fileURLToPath(new URL("../endpoint-loader.js", import.meta.url));
  const stdout = await new Promise<string>((resolve, reject) => {
    execFile(
      process.execPath,
      [script, JSON.stringify(request)],
      { env, maxBuffer: 16 * 1024 * 1024 },
      (error, out, err) => {
        if (error) reject(new Error(`kubeconfig loader failed: ${err.trim() || error.message}`));
        else resolve(out);
      },
    );
  });
  const reply = JSON.parse(stdout) as EndpointReply;
  if (reply.ok) return reply.endpoint;
  if (reply.error === "UsageError") throw new UsageError(reply.message);
  if (reply.error === "InputError") throw new InputError(reply.where ?? "", reply.problem ?? reply.message);
  throw new Error(reply.message);
}

/** Connects with the user's kubeconfig/context or the in-cluster service account. */
export async function connect(
  args: ParsedArgs,
  rt: Runtime,
  s: LiveSettings,
): Promise<{ client: KubeClient; description: string; context: string }> {
  const kubeconfig = args.flags.kubeconfig;
  const context = args.flags.context;
  const endpoint = await resolveEndpointOutOfProcess(
    {
      ...(typeof kubeconfig === "string" ? { kubeconfig } : {}),
      ...(typeof context === "string" ? { context } : {}),
    },
    rt.env,
  );
  const client = KubeClient.fromEndpoint(endpoint, {
    timeoutMs: s.timeoutMs,
    qps: s.qps,
    burst: s.burst,
    maxSockets: Math.max(s.concurrency * 2, 8),
    userAgent: `cnidoctor/${toolVersion()}`,
  });
  return { client, description: endpoint.description, context: endpoint.context };
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
  const { client, context } = await connect(args, rt, settings);
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
    client.close();
  }
}
