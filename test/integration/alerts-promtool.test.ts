// The generated alert rules against the real promtool (Debian's prometheus package, installed by
// scripts/cluster/ensure-tools.sh): `check rules` on both output formats, `test rules` on the
// shipped cases in alerts/tests/.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parse, stringify } from "yaml";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const BIN = join(ROOT, "dist/src/cli/bin.js");
const PROMTOOL = "/usr/bin/promtool";

function cli(args: string[]): string {
  return execFileSync(process.execPath, [BIN, ...args], { encoding: "utf8" });
}

function promtool(args: string[]): { code: number; out: string } {
  const r = spawnSync(PROMTOOL, args, { encoding: "utf8", cwd: ROOT });
  return { code: r.status ?? -1, out: `${r.stdout}${r.stderr}` };
}

test("promtool check rules accepts `cnidoctor alerts --format rules` and the PrometheusRule's groups", () => {
  const dir = mkdtempSync(join(tmpdir(), "cnidoctor-alerts-"));
  const plain = join(dir, "rules.yaml");
  writeFileSync(plain, cli(["alerts", "--format", "rules"]));
  const pr = parse(cli(["alerts", "--format", "prometheusrule"])) as {
    kind: string;
    spec: { groups: unknown };
  };
  assert.equal(pr.kind, "PrometheusRule");
  const fromCrd = join(dir, "from-crd.yaml");
  writeFileSync(fromCrd, stringify({ groups: pr.spec.groups }));
  // Every shipped advisory's rules plus the shared recording rules, in all three files.
  const expected = (parse(readFileSync(plain, "utf8")) as { groups: { rules: unknown[] }[] }).groups.flatMap(
    (g) => g.rules,
  ).length;
  assert.ok(expected > 7, `only ${expected} rules: one advisory's`);
  for (const f of [plain, fromCrd, join(ROOT, "alerts/cnidoctor-rules.yaml")]) {
    const r = promtool(["check", "rules", f]);
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, new RegExp(`SUCCESS: ${expected} rules found`));
  }
});

test("promtool check rules rejects a broken rule (the check is real)", () => {
  const dir = mkdtempSync(join(tmpdir(), "cnidoctor-alerts-"));
  const bad = join(dir, "bad.yaml");
  writeFileSync(bad, cli(["alerts", "--format", "rules"]).replace("[15m])) * 3600", "[15m)) * 3600"));
  assert.notEqual(promtool(["check", "rules", bad]).code, 0);
});

test("promtool test rules passes every case in alerts/tests/", () => {
  const cases = readdirSync(join(ROOT, "alerts/tests")).filter((f) => f.endsWith(".yaml"));
  assert.ok(cases.length > 0);
  for (const c of cases) {
    const r = promtool(["test", "rules", join("alerts/tests", c)]);
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /SUCCESS/);
  }
});
