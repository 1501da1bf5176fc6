// Assembles the project's WebAssembly text sources (src/**/*.wat) into dist/src/**/*.wasm, next to the
// compiled JS that loads them. Part of `npm run build` and scripts/ensure-deps.sh; the binaries are
// build output and are never committed. A module with a memory layout (LAYOUTS) gets its numbers
// written in first (wat-layout.ts). Skips a module whose .wasm is newer than its .wat and layout.

import { mkdirSync, readFileSync, readdirSync, renameSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import wabtInit from "wabt";
import { LAYOUTS, watText } from "./wat-layout.js";

const root = join(import.meta.dirname, "..", "..", "..");

function watFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...watFiles(path));
    else if (entry.name.endsWith(".wat")) out.push(path);
  }
  return out;
}

function mtime(path: string): number {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return -1;
  }
}

async function main(): Promise<void> {
  const sources = watFiles(join(root, "src"));
  const stale = sources.filter((src) => {
    const layout = LAYOUTS[relative(root, src)];
    const inputs = Math.max(mtime(src), layout === undefined ? -1 : mtime(join(root, layout.source)));
    return mtime(target(src)) < inputs;
  });
  if (stale.length === 0) return;
  const wabt = await wabtInit();
  for (const src of stale) {
    const name = relative(root, src);
    const module = wabt.parseWat(name, watText(name, readFileSync(src, "utf8")), { simd: true });
    try {
      module.resolveNames();
      module.validate();
      const { buffer } = module.toBinary({ write_debug_names: false });
      const out = target(src);
      mkdirSync(dirname(out), { recursive: true });
      writeFileSync(`${out}.tmp`, buffer);
      renameSync(`${out}.tmp`, out);
    } finally {
      module.destroy();
    }
  }
}

function target(src: string): string {
  return join(root, "dist", relative(root, src)).replace(/\.wat$/, ".wasm");
}

main().catch((err: unknown) => {
  process.stderr.write(`build/wasm: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
