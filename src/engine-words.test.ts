// The engine knows no advisory: what is specific to a known failure (its words, ids, column,
// alert names, Node condition type) lives in its advisory file. This test reads every engine
// source file (src/**/*.ts except tests and testdata) for words of the shipped advisories and
// finds none, except in the planners that declare one of their remediations (a planner that
// patches Felix's xdpEnabled has to say so) and a short list of named, explained exceptions.

import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { basename, dirname, join, relative, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { loadAdvisories, SHIPPED_ADVISORIES_DIR } from "./advisories/load.js";
import type { Advisory } from "./model/advisory.js";

const here = fileURLToPath(new URL(".", import.meta.url));
const up = resolve(here, "..");
// The compiled test runs from dist/src; the sources it reads are in the repository's src/.
const ROOT = basename(up) === "dist" ? dirname(up) : up;
const SRC = join(ROOT, "src");
const DIST_SRC = here;

/** Words of the shipped incident that no engine file may contain. */
const FIXED_WORDS: readonly RegExp[] = [
  /xdp/i,
  /BTF/,
  /CNID-2024/,
  /filter\.o\b/,
  // CNID-2021-0001 (VXLAN TX checksum offload): its Felix flag, log field, NIC driver and devices.
  /CNID-2021/,
  /ChecksumOffloadBroken/,
  /xsumBroken/,
  /vmxnet3/i,
  /tx-checksum/,
  /flannel\.(1|4096)\b/,
];

/**
 * Files that still name the incident, each with why. An entry that no longer matches fails the
 * test, so the list only shrinks.
 */
const EXCEPTIONS: Readonly<Record<string, string>> = {
  // Shared with a concurrent change: its usage text names xdpEnabled as the example setting.
  "src/cli/flags.ts": "--restart-wait usage text (flags.ts is edited elsewhere; follow-up)",
  // Copy-paste examples in help output name a real advisory and a real step id.
  "src/cli/commands/advisories.ts": "help example `advisories show CNID-2024-0001`",
  "src/cli/commands/apply.ts": "help example `--only felix-disable-xdp`",
  // The version tables record the RKE2 charts' Felix XDP default (data/ field xdpEnabledByChart),
  // which the version gate matches to the advisory's condition: generalising it changes data/.
  "src/versions/tables.ts": "RKE2 chart field xdpEnabledByChart (follow-up)",
  "src/versions/kdm.ts": "RKE2 chart field xdpEnabledByChart (follow-up)",
  "src/versions/gate.ts": "RKE2 chart field xdpEnabledByChart (follow-up)",
};

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** The fixed words plus each shipped advisory's id and the names it gives the report and alerts. */
function wordsOf(advisories: readonly Advisory[]): RegExp[] {
  const named = advisories.flatMap((a) => {
    const p = a.presentation;
    return [
      a.id,
      ...(p?.conditionType !== undefined ? [p.conditionType] : []),
      ...(p?.alerts?.signatureSeen !== undefined ? [p.alerts.signatureSeen.name] : []),
      ...(p?.alerts?.signatureRate !== undefined ? [p.alerts.signatureRate.name] : []),
    ];
  });
  return [...FIXED_WORDS, ...named.map((w) => new RegExp(`\\b${escape(w)}\\b`))];
}

function engineFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return e.name === "testdata" ? [] : engineFiles(path);
    return e.name.endsWith(".ts") && !e.name.endsWith(".test.ts") && !e.name.endsWith(".d.ts") ? [path] : [];
  });
}

function hasImplements(value: unknown): value is { implements: readonly string[] } {
  return (
    typeof value === "object" &&
    value !== null &&
    Array.isArray((value as { implements?: unknown }).implements)
  );
}

/** src/remediate/ modules exporting a planner whose declared remediations are all shipped ones. */
async function declaringPlanners(advisories: readonly Advisory[]): Promise<Set<string>> {
  const shipped = new Set(advisories.flatMap((a) => a.remediations.map((r) => r.id)));
  const out = new Set<string>();
  for (const file of engineFiles(join(SRC, "remediate"))) {
    const js = join(DIST_SRC, "remediate", basename(file).replace(/\.ts$/, ".js"));
    const mod = (await import(pathToFileURL(js).href)) as Record<string, unknown>;
    const declares = Object.values(mod).some(
      (v) => hasImplements(v) && v.implements.length > 0 && v.implements.every((id) => shipped.has(id)),
    );
    if (declares) out.add(relative(ROOT, file));
  }
  return out;
}

function hits(text: string, words: readonly RegExp[]): string[] {
  return text
    .split("\n")
    .flatMap((line, i) => (words.some((w) => w.test(line)) ? [`${String(i + 1)}: ${line.trim()}`] : []));
}

test("no engine file names a shipped advisory's words; its data file does", async () => {
  const advisories = await loadAdvisories();
  const words = wordsOf(advisories);
  // The words are the incident's: its own file has them (else this test could pass on nothing).
  const data = readFileSync(join(SHIPPED_ADVISORIES_DIR, "CNID-2024-0001.yaml"), "utf8");
  assert.ok(hits(data, words).length > 10);
  const vxlan = readFileSync(join(SHIPPED_ADVISORIES_DIR, "CNID-2021-0001.yaml"), "utf8");
  assert.ok(hits(vxlan, words).length > 10);
  const planners = await declaringPlanners(advisories);
  assert.ok(planners.has("src/remediate/felix.ts"), "the Felix planner declares its remediation");
  assert.ok(planners.has("src/remediate/vxlan-offload.ts"), "the VXLAN offload planners declare theirs");
  const found: string[] = [];
  const stale: string[] = [];
  for (const file of engineFiles(SRC)) {
    const rel = relative(ROOT, file);
    if (planners.has(rel)) continue;
    const lines = hits(readFileSync(file, "utf8"), words);
    if (rel in EXCEPTIONS) {
      if (lines.length === 0) stale.push(rel);
      continue;
    }
    found.push(...lines.map((l) => `${rel}:${l}`));
  }
  assert.deepEqual(found, [], "advisory words in engine files: move them into the advisory data");
  assert.deepEqual(stale, [], "exceptions that no longer apply: remove them from EXCEPTIONS");
});

test("a planner that declares no shipped remediation gets no exception", async () => {
  const advisories = await loadAdvisories();
  const planners = await declaringPlanners(advisories);
  for (const shared of ["src/remediate/index.ts", "src/remediate/types.ts", "src/remediate/alerts.ts"])
    assert.equal(planners.has(shared), false, shared);
});
