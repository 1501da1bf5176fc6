// What each planner declares (`implements`, the advisory remediation ids its steps carry) holds:
// every step a planner emits over the example bundles and RKE configs carries a declared id, every
// declared id is emitted somewhere, every remediation of every shipped advisory has a planner, and
// a planner declaring an id no advisory has is reported.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { loadAdvisories, SHIPPED_ADVISORIES_DIR } from "../advisories/load.js";
import { diagnose } from "../analyze/diagnose.js";
import { collectBundle } from "../collect/bundle/collect-bundle.js";
import { compileSignatures } from "../logs/index.js";
import type { Advisory } from "../model/advisory.js";
import type { Step } from "../model/plan.js";
import type { Snapshot } from "../model/snapshot.js";
import { buildPlan, PLANNERS } from "./index.js";
import { perInstall } from "./per-install.js";
import { DEFAULT_PLAN_OPTIONS, type InstallPlanner, type PlanFacts, type Planner } from "./types.js";

const ROOT = new URL("../../../", import.meta.url).pathname;
const EXAMPLES = join(ROOT, "examples");
const RKE_CONFIGS = join(ROOT, "src/remediate/testdata");
const advisories = await loadAdvisories(SHIPPED_ADVISORIES_DIR);
assert.ok(advisories.some((a) => a.id === "CNID-2024-0001"));
const now = new Date("2024-08-14T10:00:00Z");
const options = { ...DEFAULT_PLAN_OPTIONS, outputDir: "/out" };

/** Advisory remediation ids no planner implements, and declared ids no advisory has. */
function coverage(
  advs: readonly Advisory[],
  planners: readonly Planner[],
): { unimplemented: string[]; unknown: string[] } {
  const declared = new Set(planners.flatMap((p) => p.implements));
  const known = new Set(advs.flatMap((a) => a.remediations.map((r) => r.id)));
  return {
    unimplemented: advs.flatMap((a) =>
      a.remediations.filter((r) => !declared.has(r.id)).map((r) => `${a.id} ${r.id}`),
    ),
    unknown: planners.flatMap((p) =>
      p.implements.filter((id) => !known.has(id)).map((id) => `${p.name}: ${id}`),
    ),
  };
}

/** Steps whose remediationId the planner does not declare. */
function undeclared(p: { name: string; implements: readonly string[] }, steps: readonly Step[]): string[] {
  return steps
    .filter((s) => !p.implements.includes(s.remediationId))
    .map((s) => `${p.name}: step ${s.id} carries ${s.remediationId}`);
}

/**
 * The facts planners see, for every shipped advisory: every example bundle with and without each
 * RKE config, and configs alone; plus the flannel-loop bundle as an upstream (manifest) Canal on a
 * kubeadm cluster, the case no example generator flavor renders.
 */
async function corpus(): Promise<PlanFacts[]> {
  const configs = readdirSync(RKE_CONFIGS)
    .filter((f) => f.endsWith(".yml"))
    .map((f) => join(RKE_CONFIGS, f));
  const bundles = readdirSync(EXAMPLES, { withFileTypes: true }).filter((d) => d.isDirectory());
  const read = (path: string): { path: string; text: string } => ({ path, text: readFileSync(path, "utf8") });
  const out: PlanFacts[] = [];
  for (const a of advisories) {
    out.push(...configs.map((c) => ({ advisory: a, options, rkeConfig: read(c) })));
    for (const b of bundles) {
      const dir = join(EXAMPLES, b.name);
      const s = await collectBundle(dir, {
        container: "calico-node",
        logContainers: [a.component.container],
        signatures: compileSignatures([a]),
        now,
      });
      const own = join(dir, "cluster.yml");
      const variants = [s, withRancher(s, true), withRancher(s, false)];
      if (b.name === "rke2-canal-flannel-loop") variants.push(asUpstreamCanal(s));
      for (const snapshot of variants)
        for (const rke of [undefined, ...configs, ...(existsSync(own) ? [own] : [])])
          out.push({
            advisory: a,
            options,
            snapshot,
            diagnosis: diagnose(snapshot, a),
            ...(rke !== undefined ? { rkeConfig: read(rke) } : {}),
          });
    }
  }
  return out;
}

/** The same cluster with its Canal applied from a manifest on a kubeadm ("other") cluster. */
function asUpstreamCanal(s: Snapshot): Snapshot {
  const other = { value: "other" as const, from: { source: "file" as const, ref: "test" } };
  return {
    ...s,
    distribution: other,
    nodes: s.nodes.map((n) => ({ ...n, distribution: other, kubeletVersion: "v1.28.8" })),
    installs: s.installs.map((i) => ({ ...i, managedBy: "manifest" as const })),
  };
}

function withRancher(s: Snapshot, value: boolean): Snapshot {
  return { ...s, rancherManaged: { value, from: { source: "file", ref: "test" } } };
}

const facts = await corpus();

/** Every planner and every part of a composite one, each with the steps it emits for the facts. */
function emitted(p: Planner | InstallPlanner, f: PlanFacts): Step[] {
  if ("plan" in p) return p.plan(f).steps;
  return (f.snapshot?.installs ?? []).flatMap((i) => p.planInstall(f, i));
}
const leaves: (Planner | InstallPlanner)[] = PLANNERS.flatMap((p): (Planner | InstallPlanner)[] =>
  p.parts !== undefined ? [...p.parts] : [p],
);

describe("planners declare what they implement", () => {
  test("every step a planner emits carries a remediation id it declares", () => {
    const wrong = [...PLANNERS, ...leaves].flatMap((p) => facts.flatMap((f) => undeclared(p, emitted(p, f))));
    assert.deepEqual([...new Set(wrong)], []);
  });

  test("every declared id is emitted for some example, so no declaration is stale", () => {
    for (const p of leaves) {
      const seen = new Set(facts.flatMap((f) => emitted(p, f).map((s) => s.remediationId)));
      assert.deepEqual(
        p.implements.filter((id) => !seen.has(id)),
        [],
        `${p.name} declares ids none of its steps carry`,
      );
    }
  });

  test("every remediation of every shipped advisory has a planner, and no planner declares an unknown id", () => {
    // The schema has no manual-only marker: every remediation, manual ones included, is planned.
    assert.ok(advisories.length > 0);
    assert.deepEqual(coverage(advisories, PLANNERS), { unimplemented: [], unknown: [] });
  });

  test("the checks report a planner declaring an id no advisory has, a missing one, and a mislabelled step", () => {
    const bogus: Planner = {
      name: "bogus",
      implements: ["no-such-remediation"],
      plan: () => ({ steps: [], notes: [] }),
    };
    const rest = PLANNERS.filter((p) => !p.implements.includes("kernel-upgrade"));
    assert.deepEqual(coverage(advisories, [...rest, bogus]), {
      unimplemented: ["CNID-2024-0001 kernel-upgrade"],
      unknown: ["bogus: no-such-remediation"],
    });
    const step = PLANNERS.flatMap((p) => facts.flatMap((f) => emitted(p, f)))[0];
    assert.ok(step);
    assert.deepEqual(undeclared(bogus, [step]), [`bogus: step ${step.id} carries ${step.remediationId}`]);
  });

  test("planner names are unique", () => {
    const names = [...PLANNERS, ...PLANNERS.flatMap((p) => p.parts ?? [])].map((p) => p.name);
    assert.deepEqual(names, [...new Set(names)]);
  });
});

describe("perInstall", () => {
  test("two installs: each install's stopgaps side by side, in the parts' order", () => {
    const stopgaps = PLANNERS.find((p) => p.parts !== undefined);
    assert.ok(stopgaps);
    // An advisory that lists every stopgap, on a cluster with an install.
    const f = facts.find(
      (x) =>
        (x.snapshot?.installs.length ?? 0) > 0 &&
        x.rkeConfig === undefined &&
        stopgaps.implements.every((id) => x.advisory.remediations.some((r) => r.id === id)),
    );
    const first = f?.snapshot?.installs[0];
    assert.ok(f?.snapshot && first);
    const second = { ...first, name: `${first.name}-b` };
    const two = { ...f, snapshot: { ...f.snapshot, installs: [first, second] } };
    const ids = stopgaps.plan(two).steps.map((s) => s.id);
    const ns = first.namespace;
    assert.deepEqual(ids, [
      `restart-${ns}-${first.name}`,
      `scheduled-restart-${ns}-${first.name}`,
      `limit-memory-${ns}-${first.name}`,
      `restart-${ns}-${second.name}`,
      `scheduled-restart-${ns}-${second.name}`,
      `limit-memory-${ns}-${second.name}`,
    ]);
    // The whole plan keeps them between the FelixConfiguration patch and the kernel step.
    const plan = buildPlan(two, ["test"], now).steps.map((s) => s.id);
    assert.deepEqual(plan.slice(plan.indexOf(ids[0] ?? ""), plan.indexOf("kernel-upgrade")), ids);
  });

  test("declares the union of its parts' ids, once each", () => {
    const part = (name: string, id: string): InstallPlanner => ({
      name,
      implements: [id],
      planInstall: () => [],
    });
    assert.deepEqual(perInstall("x", [part("a", "r1"), part("b", "r2"), part("c", "r1")]).implements, [
      "r1",
      "r2",
    ]);
  });
});
