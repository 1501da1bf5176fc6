// Validates the shipped advisories and writes what they parse to (with the exact texts validated)
// into dist/src/advisories/verified.json, which loadAdvisories() uses while the files are unchanged.
// Part of `npm run build` and scripts/ensure-deps.sh: a shipped advisory that does not validate
// fails the build.

import { readFileSync, readdirSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  loadAdvisories,
  SHIPPED_ADVISORIES_DIR,
  VERIFIED_CACHE_PATH,
  type VerifiedCache,
} from "../../src/advisories/load.js";

async function main(): Promise<void> {
  const advisories = await loadAdvisories(SHIPPED_ADVISORIES_DIR, { verified: false });
  const cache: VerifiedCache = {
    schema: readFileSync(join(SHIPPED_ADVISORIES_DIR, "advisory.schema.json"), "utf8"),
    files: {},
  };
  const names = readdirSync(SHIPPED_ADVISORIES_DIR).filter(
    (n) => /\.(ya?ml|json)$/.test(n) && !n.endsWith(".schema.json"),
  );
  for (const name of names) {
    const advisory = advisories.find((a) => name.startsWith(`${a.id}.`));
    if (advisory === undefined) throw new Error(`${name}: not among the loaded advisories`);
    cache.files[name] = { text: readFileSync(join(SHIPPED_ADVISORIES_DIR, name), "utf8"), advisory };
  }
  writeFileSync(`${VERIFIED_CACHE_PATH}.tmp`, `${JSON.stringify(cache)}\n`);
  renameSync(`${VERIFIED_CACHE_PATH}.tmp`, VERIFIED_CACHE_PATH);
}

main().catch((err: unknown) => {
  process.stderr.write(`build/advisory-cache: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
