// Rewrites the README's flag reference from src/cli/flags.ts (npm run docs:flags). Atomic: the new
// README is written beside the old one and renamed over it.

import { readFileSync, renameSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { withFlagTable } from "../../src/cli/flag-reference.js";

const readme = fileURLToPath(new URL("../../../README.md", import.meta.url));
const before = readFileSync(readme, "utf8");
const after = withFlagTable(before);
if (after === before) {
  console.log("README.md: flag reference already up to date");
} else {
  writeFileSync(`${readme}.tmp`, after);
  renameSync(`${readme}.tmp`, readme);
  console.log("README.md: flag reference rewritten from src/cli/flags.ts");
}
