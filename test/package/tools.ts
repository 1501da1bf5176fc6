// Shared by the packaging tests (image, single file, npm package): finding optional tools, running
// commands, and the skip message when a tool is missing (printed, never silent).
import { execFile, execFileSync } from "node:child_process";
import { join } from "node:path";

export const REPO = join(import.meta.dirname, "..", "..", "..");
export const VERSION = (
  JSON.parse(
    execFileSync("node", ["-p", "JSON.stringify(require('./package.json'))"], {
      cwd: REPO,
      encoding: "utf8",
    }),
  ) as {
    version: string;
  }
).version;
export const IMAGE = `ghcr.io/cnidoctor/cnidoctor:${VERSION}`;
/** podman/buildah settings that work on these machines (scripts/image/containers.conf). */
export const PODMAN_ENV = {
  ...process.env,
  CONTAINERS_CONF: join(REPO, "scripts", "image", "containers.conf"),
};

export function which(tool: string): string | undefined {
  try {
    return execFileSync("sh", ["-c", `command -v ${tool}`], { encoding: "utf8" }).trim() || undefined;
  } catch {
    return undefined;
  }
}

/** The skip reason when a tool is missing, also printed so a skipped run is visible in the log. */
export function missing(...tools: string[]): string | false {
  const absent = tools.filter((t) => which(t) === undefined);
  if (absent.length === 0) return false;
  const reason = `skipped: ${absent.join(", ")} not installed (apt-get install -y podman buildah skopeo runc)`;
  process.stderr.write(`${reason}\n`);
  return reason;
}

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

export function sh(
  cmd: string,
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; cwd?: string } = {},
): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      cmd,
      args,
      { maxBuffer: 256 << 20, env: opts.env ?? process.env, cwd: opts.cwd },
      (err, stdout, stderr) => {
        const code = err === null ? 0 : typeof err.code === "number" ? err.code : 1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

export function podman(args: string[]): Promise<Run> {
  return sh("podman", args, { env: PODMAN_ENV });
}
