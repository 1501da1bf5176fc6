// Bundles the built CLI (dist/) into one ES module for the single executable, plus the log worker
// as a second bundle, and lists the runtime files the modules read through `import.meta.url`.
//
// Every bundled module's `import.meta.url` becomes `__cnidoctorModuleUrl("<its path in dist>")`, so
// the relative paths in the code keep naming the same files; scripts/sea/runtime-sea.ts maps them
// into the directory unpacked from the executable's assets. A `new URL("…", import.meta.url)` whose
// target is neither a runtime file nor a child program the entry dispatches fails the build, so a new
// data file cannot be forgotten silently.

import { build, type Plugin } from "esbuild";
import { createHash } from "node:crypto";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, posix, relative, sep } from "node:path";

export interface RuntimeAsset {
  /** Path relative to the unpacked root; also the SEA asset key. */
  key: string;
  bytes: Buffer;
}

export interface Bundle {
  /** The entry module (ESM, top-level await). */
  main: string;
  assets: RuntimeAsset[];
  /** sha256 over every asset's key and bytes. */
  hash: string;
}

/** Child programs started as `process.execPath <script>`; scripts/sea/main.ts dispatches them. */
export const CHILD_PROGRAMS = ["dist/src/cli/kube-loader.js"];
const WORKER = "dist/src/logs/worker.js";

/**
 * `require` for the bundled CommonJS packages: Node's built-ins only, never a file beside the
 * executable. Node warns about `punycode` (whatwg-url's) only when code outside node_modules loads
 * it, and in the bundle every caller is outside, so that one load is made without the warning the
 * npm install does not print either.
 */
const REQUIRE_SHIM = [
  "const require = (id) => {",
  "  const quiet = id === 'punycode' && !process.noDeprecation;",
  "  if (quiet) process.noDeprecation = true;",
  "  let m;",
  "  try { m = process.getBuiltinModule(id); } finally { if (quiet) process.noDeprecation = false; }",
  "  if (m !== undefined) return m;",
  "  throw Object.assign(new Error(`Cannot find module '${id}'`), { code: 'MODULE_NOT_FOUND' });",
  "};",
].join("\n");

function filesUnder(repo: string, dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(join(repo, dir), { withFileTypes: true })) {
    const rel = posix.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...filesUnder(repo, rel));
    else if (entry.isFile()) out.push(rel);
  }
  return out.sort();
}

function toPosix(path: string): string {
  return path.split(sep).join("/");
}

/** Rewrites import.meta.url per module and records the relative URLs the modules resolve. */
function moduleUrlPlugin(repo: string, targets: Map<string, string>): Plugin {
  const dist = join(repo, "dist") + sep;
  return {
    name: "cnidoctor-module-url",
    setup(b) {
      b.onLoad({ filter: /\.js$/ }, (args) => {
        // The injected runtime modules keep their own import.meta.url (the bundle's).
        if (!args.path.startsWith(dist) || args.path.startsWith(join(dist, "scripts", "sea") + sep))
          return undefined;
        const rel = toPosix(relative(repo, args.path));
        let text = readFileSync(args.path, "utf8");
        for (const m of text.matchAll(/new URL\(\s*"([^"]+)",\s*import\.meta\.url\s*\)/g)) {
          const target = posix.normalize(posix.join(posix.dirname(rel), m[1] ?? ""));
          targets.set(target === "." || target === "./" ? "" : target, rel);
        }
        // A lazy require of a package (report/yaml.ts) is bundled like any import.
        text = text.replace(/createRequire\(import\.meta\.url\)\(("[a-z@][^"]*")\)/g, "require($1)");
        text = text.replaceAll("import.meta.url", `__cnidoctorModuleUrl(${JSON.stringify(rel)})`);
        return { contents: text, loader: "js" };
      });
    },
  };
}

async function bundle(
  repo: string,
  entry: string,
  inject: string,
  targets: Map<string, string>,
  define: Record<string, string> = {},
): Promise<string> {
  const result = await build({
    absWorkingDir: repo,
    entryPoints: [entry],
    bundle: true,
    write: false,
    platform: "node",
    format: "esm",
    target: "node22",
    inject: [inject],
    define,
    banner: { js: REQUIRE_SHIM },
    plugins: [moduleUrlPlugin(repo, targets)],
    minifyWhitespace: true,
    minifySyntax: true,
    keepNames: true,
    legalComments: "none",
    logLevel: "error",
    // ws's optional native speed-ups: required inside try/catch, absent here as in most installs.
    external: ["bufferutil", "utf-8-validate"],
  });
  const out = result.outputFiles[0];
  if (!out) throw new Error(`esbuild produced nothing for ${entry}`);
  return out.text;
}

export async function bundleCli(repo: string): Promise<Bundle> {
  for (const f of [
    "dist/scripts/sea/main.js",
    "dist/src/advisories/verified.json",
    "dist/src/logs/line-kernel.wasm",
  ]) {
    statSync(join(repo, f)); // throws ENOENT: run `npm run build` first
  }
  const targets = new Map<string, string>();
  const main = await bundle(repo, "dist/scripts/sea/main.js", "dist/scripts/sea/runtime-sea.js", targets);
  const workerTargets = new Map<string, string>();
  const worker = await bundle(repo, WORKER, "dist/scripts/sea/runtime-file.js", workerTargets, {
    __CNIDOCTOR_OWN_PATH__: JSON.stringify(WORKER),
  });

  const pkg = JSON.parse(readFileSync(join(repo, "package.json"), "utf8")) as {
    name: string;
    version: string;
  };
  const assets: RuntimeAsset[] = [
    {
      key: "package.json",
      bytes: Buffer.from(`${JSON.stringify({ name: pkg.name, version: pkg.version, type: "module" })}\n`),
    },
    ...[...filesUnder(repo, "advisories"), ...filesUnder(repo, "data")].map((key) => ({
      key,
      bytes: readFileSync(join(repo, key)),
    })),
    {
      key: "dist/src/advisories/verified.json",
      bytes: readFileSync(join(repo, "dist/src/advisories/verified.json")),
    },
    {
      key: "dist/src/logs/line-kernel.wasm",
      bytes: readFileSync(join(repo, "dist/src/logs/line-kernel.wasm")),
    },
    { key: WORKER, bytes: Buffer.from(worker) },
  ];

  const keys = new Set(assets.map((a) => a.key));
  const known = (target: string): boolean =>
    target === "" ||
    keys.has(target) ||
    CHILD_PROGRAMS.includes(target) ||
    [...keys].some((k) => k.startsWith(target.endsWith("/") ? target : `${target}/`));
  for (const [target, from] of [...targets, ...workerTargets]) {
    if (!known(target)) {
      throw new Error(
        `${from} reads '${target}' relative to its own URL, which the single file does not ship`,
      );
    }
  }

  const hash = createHash("sha256");
  for (const a of assets) hash.update(`${a.key}\0${a.bytes.length}\0`).update(a.bytes);
  hash.update(main);
  return { main, assets, hash: hash.digest("hex") };
}
