// Start-up time and peak RSS of the single file (dist/sea/kubectl-cnidoctor, `npm run sea`) against
// the npm install (`node dist/src/cli/bin.js`) on the same Node version (the pinned runtime the
// single file embeds) and on the `node` on PATH, side by side in the same run: the three commands
// take turns in every round, so machine load hits them alike. Also the single file's first run,
// which unpacks its data files. Wall time is the median over rounds; CPU is user + system.
//   npm run bench:sea -- [--runs 9] [--example rke1-canal-affected]
import { execFile, execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs, promisify } from "node:util";

const run = promisify(execFile);
const REPO = join(import.meta.dirname, "..", "..", "..");
const EXE = join(REPO, "dist", "sea", "kubectl-cnidoctor");
const CLI = join(REPO, "dist", "src", "cli", "bin.js");

interface Sample {
  wall: number;
  cpu: number;
  rssMiB: number;
}

/** One run under /usr/bin/time; exit codes 3 and 4 are verdicts, not failures. */
async function timed(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<Sample> {
  const r = await run("/usr/bin/time", ["-f", "TIME %e %U %S %M", cmd, ...args], {
    env: { ...process.env, ...env },
    cwd: REPO,
    maxBuffer: 64 << 20,
  }).catch((e: unknown) => {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    if (err.code === 3 || err.code === 4) return { stdout: err.stdout ?? "", stderr: err.stderr ?? "" };
    throw e;
  });
  const m = /TIME ([\d.]+) ([\d.]+) ([\d.]+) (\d+)/.exec(r.stderr);
  if (!m) throw new Error(`no timing from /usr/bin/time: ${r.stderr.slice(-300)}`);
  return { wall: Number(m[1]), cpu: Number(m[2]) + Number(m[3]), rssMiB: Number(m[4]) / 1024 };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[mid] ?? 0) : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      runs: { type: "string", default: "9" },
      example: { type: "string", default: "rke1-canal-affected" },
    },
  });
  const runs = Number(values.runs);
  if (!existsSync(EXE)) throw new Error(`${EXE} is missing: run \`npm run sea\` first`);
  const pinned = join(
    execFileSync("bash", [join(REPO, "scripts", "ensure-node-runtime.sh"), "linux-x64"], {
      encoding: "utf8",
    }).trim(),
    "bin",
    "node",
  );
  const pathNode = execFileSync("sh", ["-c", "command -v node"], { encoding: "utf8" }).trim();
  const version = (n: string): string => execFileSync(n, ["--version"], { encoding: "utf8" }).trim();
  const runtimeDir = mkdtempSync(join(tmpdir(), "cnid-bench-sea-"));
  const env = { CNIDOCTOR_RUNTIME_DIR: runtimeDir };
  const cases: [string, string[]][] = [
    ["--version", ["--version"]],
    [
      `scan --bundle examples/${values.example ?? ""}`,
      ["scan", "--bundle", join("examples", values.example ?? "")],
    ],
  ];
  const contenders: [string, (args: string[]) => Promise<Sample>][] = [
    ["single file", (a) => timed(EXE, a, env)],
    [`npm install, Node ${version(pinned)}`, (a) => timed(pinned, [CLI, ...a], env)],
    [`npm install, Node ${version(pathNode)} (PATH)`, (a) => timed(pathNode, [CLI, ...a], env)],
  ];
  console.log(
    `load average at start: ${loadavg()
      .map((l) => l.toFixed(1))
      .join(" ")} on this machine`,
  );
  try {
    const first = await timed(EXE, ["--version"], env);
    console.log(
      `single file, first run (unpacks its data files): ${first.wall.toFixed(2)} s, ${first.rssMiB.toFixed(0)} MiB`,
    );
    for (const [label, args] of cases) {
      const samples = contenders.map(() => [] as Sample[]);
      for (let i = 0; i < runs; i++) {
        for (const [j, [, go]] of contenders.entries()) samples[j]?.push(await go(args));
      }
      const base = samples[1] ?? [];
      console.log(`\n${label} (median of ${runs} rounds)`);
      console.log(
        "  contender                          wall s   cpu s   peak RSS MiB   wall / npm(same Node)   RSS / npm",
      );
      for (const [j, [name]] of contenders.entries()) {
        const s = samples[j] ?? [];
        const wall = median(s.map((x) => x.wall));
        const cpu = median(s.map((x) => x.cpu));
        const rss = median(s.map((x) => x.rssMiB));
        const wallRatio = wall / median(base.map((x) => x.wall));
        const rssRatio = rss / median(base.map((x) => x.rssMiB));
        console.log(
          `  ${name.padEnd(34)} ${wall.toFixed(2).padStart(6)}  ${cpu.toFixed(2).padStart(6)}  ${rss.toFixed(0).padStart(13)}  ${wallRatio.toFixed(2).padStart(22)}x  ${rssRatio.toFixed(2).padStart(8)}x`,
        );
      }
    }
    console.log(
      `\nload average at end: ${loadavg()
        .map((l) => l.toFixed(1))
        .join(" ")}`,
    );
  } finally {
    rmSync(runtimeDir, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  console.error(`bench:sea: ${e instanceof Error ? e.message : String(e)}`);
  process.exitCode = 1;
});
