// `npm run sea`: the kubectl plugin as one file. Bundles the built CLI (bundle.ts), turns it into a
// Node single executable application with the pinned Node runtime of the container image
// (scripts/ensure-node-runtime.sh, from the npm registry's Node binary packages) and packs it as krew
// expects. Writes dist/sea/:
//   kubectl-cnidoctor                          linux-amd64 executable
//   linux-<arch>/kubectl-cnidoctor             per platform
//   kubectl-cnidoctor-linux-<arch>.tar.gz      krew archive (kubectl-cnidoctor, LICENSE) + .sha256
//   cnidoctor.yaml                             the krew manifest (plugins/cnidoctor.yaml, sha256 filled in)
//
// `node --build-sea` injects the blob into a copy of the target's Node binary without running it,
// so the arm64 file is built here too; only the amd64 one can be run on this machine. The blob is
// made by the amd64 Node of the same version (required: same version as the injected binary); the
// V8 code cache is left out because it is specific to the CPU that made it.

import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { chmodSync, copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { parseDocument, type YAMLMap, type YAMLSeq } from "yaml";
import { bundleCli } from "./bundle.js";
import { MANIFEST_ASSET, type RuntimeManifest } from "./runtime-sea.js";

const REPO = join(import.meta.dirname, "..", "..", "..");
const OUT = join(REPO, "dist", "sea");
const BIN = "kubectl-cnidoctor";

interface Target {
  /** ensure-node-runtime.sh's name. */
  node: "linux-x64" | "linux-arm64";
  os: "linux";
  arch: "amd64" | "arm64";
}
const TARGETS: Target[] = [
  { node: "linux-x64", os: "linux", arch: "amd64" },
  { node: "linux-arm64", os: "linux", arch: "arm64" },
];

export interface Built {
  target: Target;
  executable: string;
  archive: string;
  sha256: string;
}

function nodeRuntime(target: Target["node"]): string {
  return execFileSync("bash", [join(REPO, "scripts", "ensure-node-runtime.sh"), target], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
  }).trim();
}

function sha256(file: string): string {
  return createHash("sha256").update(readFileSync(file)).digest("hex");
}

/** A krew archive whose bytes depend only on its contents (sorted names, fixed times and owners). */
function archive(dir: string, file: string): void {
  execFileSync(
    "tar",
    [
      "--sort=name",
      "--mtime=2020-01-01 00:00:00Z",
      "--owner=0",
      "--group=0",
      "--numeric-owner",
      "-C",
      dir,
      "-cf",
      `${file}.tar`,
      BIN,
      "LICENSE",
    ],
    { stdio: "inherit" },
  );
  execFileSync("gzip", ["-n", "-f", `${file}.tar`], { stdio: "inherit" });
  rmSync(file, { force: true });
  execFileSync("mv", [`${file}.tar.gz`, file]);
}

/** plugins/cnidoctor.yaml with this version's download addresses and the archives' sha256. */
function manifest(built: Built[], version: string): string {
  const doc = parseDocument(readFileSync(join(REPO, "plugins", "cnidoctor.yaml"), "utf8"));
  // The template's header describes the template; the output names its source instead.
  (doc.contents as YAMLMap).commentBefore = " Written by `npm run sea` from plugins/cnidoctor.yaml.";
  doc.setIn(["spec", "version"], `v${version}`);
  const release = process.env.CNIDOCTOR_RELEASE_URL?.replace(/\/+$/, "");
  const platforms = doc.getIn(["spec", "platforms"]) as YAMLSeq;
  platforms.items = platforms.items.filter((item) => {
    const p = item as YAMLMap;
    const arch = String(p.getIn(["selector", "matchLabels", "arch"]));
    const b = built.find((x) => x.target.arch === arch);
    if (b === undefined) return false;
    const name = b.archive.split("/").pop() ?? "";
    const uri = String(p.get("uri")).replaceAll("{version}", version);
    p.set("uri", release !== undefined && release !== "" ? `${release}/${name}` : uri);
    p.set("sha256", b.sha256);
    return true;
  });
  return doc.toString({ lineWidth: 0 });
}

async function main(): Promise<void> {
  const wanted = (process.env.CNIDOCTOR_SEA_TARGETS ?? "amd64,arm64").split(",");
  const { version } = JSON.parse(readFileSync(join(REPO, "package.json"), "utf8")) as { version: string };
  const started = Date.now();
  const bundle = await bundleCli(REPO);

  const work = join(OUT, "build");
  rmSync(OUT, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  const mainFile = join(work, "main.mjs");
  writeFileSync(mainFile, bundle.main);
  const assets: Record<string, string> = {};
  for (const a of bundle.assets) {
    const file = join(work, "assets", a.key);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, a.bytes);
    assets[a.key] = file;
  }
  const listing: RuntimeManifest = { hash: bundle.hash, files: bundle.assets.map((a) => a.key) };
  assets[MANIFEST_ASSET] = join(work, MANIFEST_ASSET);
  writeFileSync(assets[MANIFEST_ASSET], `${JSON.stringify(listing)}\n`);

  const builder = join(nodeRuntime("linux-x64"), "bin", "node");
  const built: Built[] = [];
  for (const target of TARGETS.filter((t) => wanted.includes(t.arch))) {
    const dir = join(OUT, `${target.os}-${target.arch}`);
    mkdirSync(dir, { recursive: true });
    const executable = join(dir, BIN);
    const config = join(work, `sea-config-${target.arch}.json`);
    writeFileSync(
      config,
      JSON.stringify(
        {
          main: mainFile,
          mainFormat: "module",
          executable: join(nodeRuntime(target.node), "bin", "node"),
          output: executable,
          disableExperimentalSEAWarning: true,
          useCodeCache: false,
          useSnapshot: false,
          // NODE_OPTIONS meant for the user's own Node programs must not change the plugin.
          execArgvExtension: "none",
          assets,
        },
        null,
        2,
      ),
    );
    try {
      execFileSync(builder, ["--build-sea", config], { stdio: ["ignore", "ignore", "pipe"] });
    } catch (e) {
      const err = (e as { stderr?: Buffer }).stderr?.toString().trim() ?? String(e);
      throw new Error(`node --build-sea for ${target.os}/${target.arch} failed: ${err}`, { cause: e });
    }
    chmodSync(executable, 0o755);
    copyFileSync(join(REPO, "LICENSE"), join(dir, "LICENSE"));
    const file = join(OUT, `${BIN}-${target.os}-${target.arch}.tar.gz`);
    archive(dir, file);
    const sum = sha256(file);
    writeFileSync(`${file}.sha256`, `${sum}  ${file.split("/").pop() ?? ""}\n`);
    built.push({ target, executable, archive: file, sha256: sum });
  }
  const amd64 = built.find((b) => b.target.arch === "amd64");
  if (amd64) copyFileSync(amd64.executable, join(OUT, BIN));
  writeFileSync(join(OUT, "cnidoctor.yaml"), manifest(built, version));
  for (const b of built) {
    const mb = (readFileSync(b.archive).length / 1e6).toFixed(1);
    process.stdout.write(
      `${b.target.os}/${b.target.arch}: ${b.executable} (archive ${mb} MB, sha256 ${b.sha256})\n`,
    );
  }
  process.stdout.write(
    `krew manifest: ${join(OUT, "cnidoctor.yaml")} (${((Date.now() - started) / 1000).toFixed(1)} s)\n`,
  );
}

main().catch((e: unknown) => {
  process.stderr.write(`npm run sea: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = 1;
});
