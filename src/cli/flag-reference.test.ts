import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { FLAGS } from "./flags.js";
import { flagReferenceTable, withFlagTable } from "./flag-reference.js";

const README = fileURLToPath(new URL("../../../README.md", import.meta.url));

test("README's flag reference is the one generated from the flag table", () => {
  const readme = readFileSync(README, "utf8");
  assert.ok(
    withFlagTable(readme) === readme,
    "README.md's flag table drifted from src/cli/flags.ts: run npm run docs:flags",
  );
});

test("flag reference: one row per flag spec, pipes escaped, values, env and default shown", () => {
  const table = flagReferenceTable();
  const rows = table.split("\n").slice(2);
  assert.equal(rows.length, FLAGS.length);
  const output = rows.find((r) => r.startsWith("| `-o, --output VALUE` | scan,"));
  assert.ok(output !== undefined);
  assert.match(
    output,
    /one of `table`, `json`, `yaml`, `markdown`, `html`; only `table`, `json`, `yaml`, `markdown` on plan, check; env `CNIDOCTOR_OUTPUT`; default `table`/,
  );
  for (const r of rows) assert.equal(r.split(/(?<!\\)\|/).length, 5, r);
});

test("withFlagTable refuses a README without its markers", () => {
  assert.throws(() => withFlagTable("# no markers\n"), /markers/);
});
