// Injected into the single-file build (scripts/sea/bundle.ts) as the provider of
// `__cnidoctorModuleUrl`, which replaces every module's `import.meta.url`. The modules find their
// data (advisories, version tables, the verified advisory cache, the WebAssembly kernel, the log
// worker) through paths relative to their own URL; in the single file those paths point into a
// directory unpacked once from the executable's SEA assets, so the code reads the same files, with
// the same checks, as in the npm install.
//
// The directory is named after the assets' hash, so a new build never reads an old one; it is made
// beside a temporary name and renamed into place, so concurrent first runs cannot see half of it.

import { lstatSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { getAsset, isSea } from "node:sea";
import { homedir, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";

/** The asset listing the others (written by bundle.ts). */
export const MANIFEST_ASSET = "cnidoctor-runtime.json";

export interface RuntimeManifest {
  /** sha256 of every asset's path and bytes, in order. */
  hash: string;
  /** Asset keys: paths relative to the unpacked root (e.g. `advisories/x.yaml`). */
  files: string[];
}

let root: string | undefined;

export function __cnidoctorModuleUrl(relativePath: string): string {
  return pathToFileURL(join(runtimeRoot(), relativePath)).href;
}

/** Where the unpacked runtime files live (unpacking them on first use). */
export function runtimeRoot(): string {
  root ??= unpack();
  return root;
}

function candidates(): string[] {
  const env = process.env;
  const out: string[] = [];
  if (env.CNIDOCTOR_RUNTIME_DIR) out.push(env.CNIDOCTOR_RUNTIME_DIR);
  if (env.XDG_CACHE_HOME) out.push(join(env.XDG_CACHE_HOME, "cnidoctor"));
  try {
    const home = homedir();
    if (home !== "" && home !== "/") out.push(join(home, ".cache", "cnidoctor"));
  } catch {
    // no home directory: fall through to the temporary directory
  }
  const uid = typeof process.getuid === "function" ? process.getuid() : 0;
  out.push(join(tmpdir(), `cnidoctor-${uid}`));
  return out;
}

/** A base directory that is ours: a real directory owned by this user, writable by no one else. */
function usable(base: string): boolean {
  try {
    mkdirSync(base, { recursive: true, mode: 0o700 });
    const st = lstatSync(base);
    const uid = typeof process.getuid === "function" ? process.getuid() : st.uid;
    return st.isDirectory() && st.uid === uid && (st.mode & 0o022) === 0;
  } catch {
    return false;
  }
}

/** An asset's bytes; outside an executable (debugging the bundle with `node main.mjs`), from the
 * build's asset directory named by CNIDOCTOR_SEA_ASSETS. */
function asset(key: string): Buffer {
  if (isSea()) return Buffer.from(getAsset(key));
  const dir = process.env.CNIDOCTOR_SEA_ASSETS;
  if (dir === undefined) throw new Error("not a single executable and CNIDOCTOR_SEA_ASSETS is not set");
  return readFileSync(join(dir, key));
}

function unpack(): string {
  const manifest = JSON.parse(asset(MANIFEST_ASSET).toString("utf8")) as RuntimeManifest;
  const name = `sea-${manifest.hash.slice(0, 16)}`;
  const problems: string[] = [];
  for (const base of candidates()) {
    if (!usable(base)) {
      problems.push(`${base}: not a private writable directory`);
      continue;
    }
    const dir = join(base, name);
    try {
      if (statSync(join(dir, ".complete")).isFile()) return dir;
    } catch {
      // not unpacked yet
    }
    const tmp = join(base, `.${name}.${process.pid}.tmp`);
    try {
      rmSync(tmp, { recursive: true, force: true });
      for (const file of manifest.files) {
        const target = join(tmp, file);
        mkdirSync(dirname(target), { recursive: true, mode: 0o700 });
        writeFileSync(target, asset(file), { mode: 0o600 });
      }
      writeFileSync(join(tmp, ".complete"), `${manifest.hash}\n`);
      try {
        renameSync(tmp, dir);
      } catch (e) {
        // Another first run won the rename: its copy is identical.
        rmSync(tmp, { recursive: true, force: true });
        if (!statSync(join(dir, ".complete")).isFile()) throw e;
      }
      return dir;
    } catch (e) {
      rmSync(tmp, { recursive: true, force: true });
      problems.push(`${base}: ${(e as Error).message}`);
    }
  }
  process.stderr.write(
    `kubectl-cnidoctor: cannot unpack its data files (set CNIDOCTOR_RUNTIME_DIR to a writable directory): ${problems.join("; ")}\n`,
  );
  process.exit(4);
}
