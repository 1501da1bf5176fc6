// `cnidoctor agent`: the long-running node agent of the DaemonSet. It returns only when SIGTERM or
// SIGINT arrives (after a clean stop: logs read to the end, checkpoint written), so main.ts stays
// the only place that ends the process.

import { existsSync, statSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { InputError, UsageError } from "../../errors.js";
import { NodeAgent } from "../../agent/agent.js";
import { childProcess } from "../../agent/builtins.js";
import { HttpNodeApi, inClusterEndpoint, type AgentEndpoint } from "../../agent/kube.js";
import { startMetricsServer } from "../../agent/server.js";
import type { Advisory } from "../../model/advisory.js";
import type { ParsedArgs } from "../parse-flags.js";
import { flagValue } from "../flag-access.js";
import type { LoaderReply, LoaderRequest } from "../kube-loader.js";
import type { Command, CommandResult, Runtime } from "./types.js";

/** A text flag, absent when empty. */
function str(
  args: ParsedArgs,
  name: "node-name" | "state-dir" | "advisories" | "host-root",
): string | undefined {
  const v = flagValue(args, name);
  return v !== undefined && v !== "" ? v : undefined;
}

async function runLoader(
  request: LoaderRequest,
): Promise<{ advisories: Advisory[]; endpoint?: AgentEndpoint }> {
  const script = fileURLToPath(new URL("../kube-loader.js", import.meta.url));
  const stdout = await new Promise<string>((resolve, reject) => {
    childProcess.execFile(
      process.execPath,
      ["--max-semi-space-size=1", script, JSON.stringify(request)],
      { maxBuffer: 64 * 1024 * 1024 },
      (error, out, err) => {
        if (error) reject(new Error(`advisory loader failed: ${err.trim() || error.message}`));
        else resolve(out);
      },
    );
  });
  const reply = JSON.parse(stdout) as LoaderReply;
  if (!reply.ok) {
    const where =
      request.advisories !== undefined && request.advisories !== "" ? request.advisories : "advisories";
    if (reply.error !== "Error") throw new InputError(where, reply.message);
    throw new Error(reply.message);
  }
  const advisories = reply.advisories ?? [];
  return reply.endpoint ? { advisories, endpoint: { endpoint: reply.endpoint } } : { advisories };
}

/** In-cluster unless a kubeconfig is named or present (then the loader child resolves it). */
function kubeMode(rt: Runtime): "in-cluster" | "kubeconfig" {
  const explicit = rt.env.KUBECONFIG;
  if (explicit !== undefined && explicit !== "") return "kubeconfig";
  if (rt.env.KUBERNETES_SERVICE_HOST !== undefined && rt.env.KUBERNETES_SERVICE_HOST !== "")
    return "in-cluster";
  if (existsSync(join(homedir(), ".kube", "config"))) return "kubeconfig";
  throw new UsageError(
    "agent: no cluster to talk to: run in a cluster, set KUBECONFIG, or pass --metrics-only",
  );
}

function logLine(line: string): void {
  process.stderr.write(`${new Date().toISOString()} ${line}\n`);
}

async function agent(args: ParsedArgs, rt: Runtime): Promise<CommandResult> {
  if (args.positionals.length > 0)
    throw new UsageError(`agent: unexpected argument '${args.positionals[0] ?? ""}'`);
  const node = str(args, "node-name");
  if (node === undefined)
    throw new UsageError("agent: give --node-name (or set NODE_NAME from the downward API)");
  const roots = flagValue(args, "log-root");
  const stateDir = str(args, "state-dir");
  const listen = flagValue(args, "listen");
  const clearAfterMs = flagValue(args, "clear-after");
  const eventIntervalMs = flagValue(args, "event-interval");
  const pollMs = flagValue(args, "poll-interval");
  const firstWriteJitterMs = flagValue(args, "first-write-jitter");
  const factsIntervalMs = flagValue(args, "facts-interval");
  if (stateDir === undefined) throw new UsageError("agent: --state-dir must name a directory");
  if (!existsSync(stateDir))
    throw new InputError(stateDir, "state directory does not exist (mount a hostPath or emptyDir there)");
  // A root or state directory that is a file, FIFO or device would leave the agent running and
  // watching nothing (or never saving its checkpoint): refused at start. Missing roots are fine
  // (no Docker on a containerd node).
  if (!isDirectory(stateDir)) throw new InputError(stateDir, "--state-dir is not a directory");
  if (roots.length === 0)
    throw new UsageError("agent: --log-root must name at least one directory (comma-separated)");
  for (const root of roots)
    if (existsSync(root) && !isDirectory(root))
      throw new InputError(root, "--log-root is not a directory (give directories of log files)");
  const metricsOnly = flagValue(args, "metrics-only");
  const mode = metricsOnly ? undefined : kubeMode(rt);
  const loaded = await runLoader({
    advisories: str(args, "advisories") ?? "",
    ...(mode === "kubeconfig" ? { endpoint: {} } : {}),
  });
  let endpoint = loaded.endpoint;
  if (mode === "in-cluster") {
    endpoint = await inClusterEndpoint(
      rt.env.KUBERNETES_SERVICE_HOST ?? "",
      rt.env.KUBERNETES_SERVICE_PORT ?? "443",
    );
  }
  const api = endpoint ? new HttpNodeApi(endpoint) : undefined;
  const hostRoot = str(args, "host-root");
  const nodeAgent = new NodeAgent({
    node,
    roots,
    stateDir,
    advisories: loaded.advisories,
    ...(api ? { api } : {}),
    clearAfterMs,
    eventIntervalMs,
    pollMs,
    firstWriteJitterMs,
    log: logLine,
    ...(hostRoot !== undefined ? { hostRoot, factsIntervalMs } : {}),
  });
  const server = await startMetricsServer(listen.host, listen.port, nodeAgent.metrics.registry, () =>
    nodeAgent.healthy(),
  );
  logLine(`metrics on http://${server.address.address}:${server.address.port}/metrics`);
  const stop = new AbortController();
  const onSignal = (): void => stop.abort();
  process.once("SIGTERM", onSignal);
  process.once("SIGINT", onSignal);
  try {
    await nodeAgent.run(stop.signal);
  } finally {
    process.off("SIGTERM", onSignal);
    process.off("SIGINT", onSignal);
    await server.close();
    api?.close();
  }
  return { stdout: "", exitCode: 0 };
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

export const agentCommand: Command = {
  name: "agent",
  usage: "cnidoctor agent --node-name NODE [--log-root DIRS] [--state-dir DIR] [--listen HOST:PORT]",
  summary:
    "Run the in-cluster node agent: follow this node's calico-node logs, export Prometheus metrics, keep a Node condition and Events.",
  examples: [
    'cnidoctor agent --node-name "$NODE_NAME"   # in the DaemonSet (deploy/agent/)',
    "cnidoctor agent --node-name n1 --log-root ./logs --state-dir ./state --listen 127.0.0.1:9808 --metrics-only",
  ],
  run: agent,
};
