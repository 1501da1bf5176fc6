// Helpers for the live-scan integration tests: run the built CLI, read per-node verdicts from its
// JSON report, talk to the harness cluster with kubectl, and build kubeconfigs for other identities.
import { execFile, spawn } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { parse as parseYaml, stringify as toYaml } from "yaml";
import { findKubectl } from "../../../scripts/cluster/tools.js";

const BIN = fileURLToPath(new URL("../../../src/cli/bin.js", import.meta.url));
const run = promisify(execFile);

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * How long one CLI run may take before the test kills it. No command in these tests should come
 * near it; it turns a hang into a failure that shows what the run printed, instead of a CI timeout.
 */
const RUN_LIMIT_MS = Number(process.env.CNIDOCTOR_TEST_RUN_LIMIT_MS ?? 300_000);

/** Runs `cnidoctor ARGS` as a user would (a separate process; stdout and stderr are pipes). */
export function cnidoctor(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      env: { ...process.env, KUBECONFIG: "", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let killed = false;
    const limit = setTimeout(() => {
      killed = true;
      child.kill("SIGKILL");
    }, RUN_LIMIT_MS);
    child.stdout.on("data", (b: Buffer) => out.push(b));
    child.stderr.on("data", (b: Buffer) => err.push(b));
    child.on("error", (e) => {
      clearTimeout(limit);
      reject(e);
    });
    child.on("close", (code) => {
      clearTimeout(limit);
      const stdout = Buffer.concat(out).toString("utf8");
      const stderr = Buffer.concat(err).toString("utf8");
      if (killed) {
        reject(
          new Error(
            `cnidoctor ${args.join(" ")} still ran after ${RUN_LIMIT_MS / 1000} s and was killed\n` +
              `stdout:\n${stdout}\nstderr:\n${stderr}`,
          ),
        );
        return;
      }
      resolve({ code: code ?? -1, stdout, stderr });
    });
  });
}

export interface JsonReport {
  target: { kind: string; name: string; nodes: number; distribution?: string };
  summary: Record<string, number>;
  verdicts: { advisoryId: string; verdicts: { subject: string; status: string; reasons: string[] }[] }[];
  coverage: { check: string; status: string; reason: string; subject?: string; material?: boolean }[];
}

export function parseReport(r: CliRun): JsonReport {
  try {
    return JSON.parse(r.stdout) as JsonReport;
  } catch {
    throw new Error(
      `not a JSON report (exit ${r.code}): ${r.stdout.slice(0, 300)} ${r.stderr.slice(0, 600)}`,
    );
  }
}

/** node → status for CNID-2024-0001. */
export function nodeStatuses(report: JsonReport): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of report.verdicts.find((x) => x.advisoryId === "CNID-2024-0001")?.verdicts ?? [])
    out[v.subject] = v.status;
  return out;
}

export async function kubectl(kubeconfig: string, args: readonly string[]): Promise<string> {
  const { stdout } = await run(findKubectl(), [...args], {
    env: { ...process.env, KUBECONFIG: kubeconfig },
    maxBuffer: 64 * 1024 * 1024,
  });
  return stdout;
}

interface KubeconfigDoc {
  clusters: { name: string; cluster: Record<string, unknown> }[];
  [k: string]: unknown;
}

/** A kubeconfig for the same cluster that authenticates with a bearer token (a ServiceAccount's). */
export function tokenKubeconfig(adminKubeconfig: string, token: string, path: string): string {
  const admin = parseYaml(readFileSync(adminKubeconfig, "utf8")) as KubeconfigDoc;
  const cluster = admin.clusters[0];
  if (!cluster) throw new Error(`${adminKubeconfig}: no cluster`);
  writeFileSync(
    path,
    toYaml({
      apiVersion: "v1",
      kind: "Config",
      clusters: [{ name: "c", cluster: cluster.cluster }],
      users: [{ name: "sa", user: { token } }],
      contexts: [{ name: "sa", context: { cluster: "c", user: "sa" } }],
      "current-context": "sa",
    }),
  );
  return path;
}

/** A kubeconfig whose server is `server` (e.g. a loopback proxy), with no credentials of its own. */
export function proxiedKubeconfig(server: string, path: string): string {
  writeFileSync(
    path,
    toYaml({
      apiVersion: "v1",
      kind: "Config",
      clusters: [{ name: "p", cluster: { server, "insecure-skip-tls-verify": true } }],
      users: [{ name: "p", user: {} }],
      contexts: [{ name: "p", context: { cluster: "p", user: "p" } }],
      "current-context": "p",
    }),
  );
  return path;
}
