// Writes the example bundles into examples/<name>/ (or into the directory given as the first
// argument). Deterministic: regenerating must reproduce the committed files byte for byte, which
// generate.test.ts checks.
//
//   npm run examples:build            # rewrite examples/
//   node dist/scripts/examples/generate.js /tmp/out

import { basename, dirname, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { writeBundle } from "./bundle.js";
import { exampleSpecs } from "./specs.js";

export { renderBundle, writeBundle, NAMESPACE_FILES } from "./bundle.js";
export type {
  BundleFiles,
  BundleSpec,
  CalicoImages,
  CniFlavor,
  CniSpec,
  FelixConfigurationSpec,
  NodeRole,
  NodeSpec,
} from "./bundle.js";
export { EXAMPLE_NAMES, exampleSpec, exampleSpecs } from "./specs.js";

/** Repository root, found from this file's location (dist/scripts/examples or scripts/examples). */
export function repoRoot(): string {
  const up = resolve(fileURLToPath(new URL(".", import.meta.url)), "../..");
  return basename(up) === "dist" ? dirname(up) : up;
}

/** Writes every example bundle under `outDir`; returns the bundle names. */
export async function generateExamples(outDir: string): Promise<string[]> {
  const names: string[] = [];
  for (const spec of exampleSpecs()) {
    await writeBundle(resolve(outDir, spec.name), spec);
    names.push(spec.name);
  }
  return names;
}

async function main(): Promise<void> {
  const outDir = process.argv[2] ?? resolve(repoRoot(), "examples");
  const names = await generateExamples(outDir);
  console.log(`wrote ${String(names.length)} example bundles to ${outDir}: ${names.join(", ")}`);
}

const invoked = process.argv[1];
if (invoked !== undefined && import.meta.url === pathToFileURL(resolve(invoked)).href) {
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : String(err));
    process.exitCode = 1;
  });
}
