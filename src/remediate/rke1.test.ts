import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { parse } from "yaml";
import { loadAdvisories, SHIPPED_ADVISORIES_DIR } from "../advisories/load.js";
import type { FileEditStep, ManualStep, Step } from "../model/plan.js";
import { planRke1 } from "./rke1.js";
import { setSystemImages } from "./rke1-yaml.js";
import { DEFAULT_PLAN_OPTIONS, type PlanFacts } from "./types.js";

const TESTDATA = new URL("../../../src/remediate/testdata/", import.meta.url);
const advisory = (await loadAdvisories(SHIPPED_ADVISORIES_DIR)).find((a) => a.id === "CNID-2024-0001");
assert.ok(advisory);

function fixture(name: string): { path: string; text: string } {
  return { path: `/etc/rke/${name}`, text: readFileSync(new URL(name, TESTDATA), "utf8") };
}

function plan(name: string): { steps: Step[]; notes: string[]; text: string } {
  const file = fixture(name);
  const facts: PlanFacts = {
    advisory: advisory as NonNullable<typeof advisory>,
    rkeConfig: file,
    options: DEFAULT_PLAN_OPTIONS,
  };
  return { ...planRke1(facts), text: file.text };
}

/** The lines that are not `key: …` for any of `keys`, in order: what must be byte-identical. */
function untouched(text: string, keys: string[]): string[] {
  return text.split("\n").filter((l) => !keys.some((k) => new RegExp(`^\\s*${k}:( |$)`).test(l)));
}

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (typeof v === "object" && v !== null ? (v as Obj) : {});

describe("RKE1 cluster.yml system_images pin", () => {
  test("canal on v1.30.3 with a mirror registry: all canal_* keys, v3.28.1 tags, registry kept", () => {
    const { steps, text } = plan("rke-cli-canal.yml");
    const pin = steps.find((s): s is FileEditStep => s.kind === "file-edit");
    assert.ok(pin, JSON.stringify(steps));
    assert.equal(pin.remediationId, "pin-rke1-system-images");
    const after = obj(parse(pin.after));
    const images = obj(after.system_images);
    const reg = "registry.corp.example:5000/";
    assert.deepEqual(Object.fromEntries(Object.entries(images).filter(([k]) => k.startsWith("canal_"))), {
      canal_node: `${reg}rancher/mirrored-calico-node:v3.28.1`,
      canal_cni: `${reg}rancher/calico-cni:v3.28.1-rancher1`,
      canal_controllers: "rancher/mirrored-calico-kube-controllers:v3.28.1",
      canal_flannel: "rancher/mirrored-flannel-flannel:v0.25.1",
      canal_flexvol: "rancher/mirrored-calico-pod2daemon-flexvol:v3.28.1",
    });
    assert.ok(!Object.keys(images).some((k) => k.startsWith("calico_")), "never mixes calico_* in");
    // Everything except the canal_* lines is byte-identical, comments and quoting included.
    const keys = ["canal_node", "canal_cni", "canal_controllers", "canal_flannel", "canal_flexvol"];
    assert.deepEqual(untouched(pin.after, keys), untouched(text, keys));
    assert.match(
      pin.after,
      /canal_cni: 'registry\.corp\.example:5000\/rancher\/calico-cni:v3\.28\.1-rancher1' {3}# Rancher build\n/,
    );
    // Semantically only system_images changed.
    const before = obj(parse(text));
    delete before.system_images;
    delete after.system_images;
    assert.deepEqual(after, before);
    assert.match(pin.diff, /^- {2}canal_node: .*v3\.28\.0$/m);
    assert.match(pin.diff, /^\+ {2}canal_node: .*v3\.28\.1$/m);
  });

  test("re-planning on the edited file is a no-op", () => {
    const { steps } = plan("rke-cli-canal.yml");
    const pin = steps.find((s): s is FileEditStep => s.kind === "file-edit");
    assert.ok(pin);
    const facts: PlanFacts = {
      advisory: advisory,
      rkeConfig: { path: pin.path, text: pin.after },
      options: DEFAULT_PLAN_OPTIONS,
    };
    const again = planRke1(facts).steps.find((s) => s.id === "rke1-pin-system-images");
    assert.ok(again);
    assert.equal(again.alreadyApplied, true);
    assert.equal(again.diff, "");
  });

  test("the smallest fixed kubernetes_version of the same minor, with the RKE/Rancher gate", () => {
    const up = plan("rke-cli-canal.yml").steps.find(
      (s): s is ManualStep => s.id === "rke1-upgrade-kubernetes",
    );
    assert.ok(up);
    assert.match(up.title, /v1\.30\.4-rancher1-1/);
    assert.match(up.notes.join(" "), /RKE CLI v1\.6\.2 or later, or Rancher v2\.9\.2 or later/);
    assert.match(up.diff, /^\+kubernetes_version: "v1\.30\.4-rancher1-1"$/m, "keeps the double quotes");
    assert.equal(up.default, false);
  });

  test("calico on v1.29.6 without system_images: a block is added with the file's own indentation", () => {
    const { steps, text } = plan("rke-cli-calico-no-images.yml");
    const pin = steps.find((s): s is FileEditStep => s.kind === "file-edit");
    assert.ok(pin);
    assert.ok(pin.after.startsWith(text), "the original bytes are a prefix: nothing before is touched");
    const added = pin.after.slice(text.length);
    assert.equal(
      added,
      [
        "system_images:",
        "  calico_node: rancher/mirrored-calico-node:v3.27.4",
        "  calico_cni: rancher/calico-cni:v3.27.4-rancher1",
        "  calico_controllers: rancher/mirrored-calico-kube-controllers:v3.27.4",
        "  calico_ctl: rancher/mirrored-calico-ctl:v3.27.4",
        "  calico_flexvol: rancher/mirrored-calico-pod2daemon-flexvol:v3.27.4",
        "",
      ].join("\n"),
    );
    assert.match(steps.map((s) => s.title).join("\n"), /v1\.29\.8-rancher1-1/);
  });

  test("Rancher's cluster spec: the change goes under rancher_kubernetes_engine_config and is never applied", () => {
    const { steps, text } = plan("rancher-cluster-spec.yml");
    assert.ok(
      steps.every((s) => s.kind === "manual" && !s.default),
      "nothing executable",
    );
    const pin = steps.find((s): s is ManualStep => s.id === "rke1-pin-system-images");
    assert.ok(pin);
    assert.match(pin.title, /rancher_kubernetes_engine_config\.system_images/);
    assert.match(pin.notes.join(" "), /through Rancher/);
    assert.match(pin.notes.join(" "), /reverts/);
    assert.match(pin.diff, /^\+ {2}system_images:$/m);
    assert.match(pin.diff, /^\+ {4}canal_node: rancher\/mirrored-calico-node:v3\.28\.1$/m);
    assert.match(text, /name: prod-eu\n$/);
  });

  test("a fixed release needs no pin", () => {
    const { steps, notes } = plan("rke-cli-fixed.yml");
    assert.deepEqual(steps, []);
    assert.match(notes.join(" "), /fixed/);
  });
});

describe("setSystemImages edge cases", () => {
  test("an empty system_images value and a flow {} are replaced by a block", () => {
    for (const src of ["a: 1\nsystem_images:\nb: 2\n", "a: 1\nsystem_images: {}\nb: 2\n"]) {
      const out = setSystemImages(src, [["calico_node", "x/y:v1"]], false);
      assert.deepEqual(parse(out.text), { a: 1, system_images: { calico_node: "x/y:v1" }, b: 2 }, out.text);
    }
  });
  test("a file without a trailing newline", () => {
    const out = setSystemImages("kubernetes_version: v1.30.3-rancher1-1", [["canal_node", "n:v1"]], false);
    assert.equal(out.text, "kubernetes_version: v1.30.3-rancher1-1\nsystem_images:\n  canal_node: n:v1\n");
  });
  test("double-quoted values stay double-quoted", () => {
    const out = setSystemImages(
      'system_images:\n  canal_node: "a:v1" # c\n',
      [["canal_node", "a:v2"]],
      false,
    );
    assert.equal(out.text, 'system_images:\n  canal_node: "a:v2" # c\n');
  });
});

describe("RKE1 and Rancher", () => {
  test("Rancher's cluster spec: no `rke --version` check, the Rancher 2.9.0 + refreshed metadata gate", () => {
    const { steps } = plan("rancher-cluster-spec.yml");
    const up = steps.find((s): s is ManualStep => s.id === "rke1-upgrade-kubernetes");
    assert.ok(up, JSON.stringify(steps.map((s) => s.id)));
    const text = [...up.instructions, ...up.notes].join("\n");
    assert.doesNotMatch(text, /rke --version/);
    assert.match(text, /no RKE CLI is involved/);
    assert.match(text, /Rancher 2\.9\.0 or later with Kubernetes metadata refreshed after 2024-09-17/);
  });
  test("an RKE CLI cluster.yml keeps the `rke --version` check", () => {
    const { steps } = plan("rke-cli-canal.yml");
    const up = steps.find((s): s is ManualStep => s.id === "rke1-upgrade-kubernetes");
    assert.match(up?.instructions.join("\n") ?? "", /rke --version/);
  });
  test("a pinned image counts as affected by the advisory's ranges, not by versions named in code", () => {
    // An advisory whose Calico range also covers v3.28.1: the pinned v3.28.1 images of an
    // otherwise fixed cluster.yml are now affected, so the planner proposes the pin.
    const widened = structuredClone(advisory);
    const calico = widened.affected.find((a) => a.ecosystem === "calico");
    assert.ok(calico?.ranges);
    calico.ranges = [{ introduced: "3.28.0", fixed: "3.28.2" }];
    const text =
      "kubernetes_version: v1.30.4-rancher1-1\nnetwork:\n  plugin: canal\nsystem_images:\n  canal_node: rancher/mirrored-calico-node:v3.28.1\n";
    const base: PlanFacts = {
      advisory,
      rkeConfig: { path: "/etc/rke/cluster.yml", text },
      options: DEFAULT_PLAN_OPTIONS,
    };
    assert.equal(planRke1(base).steps.length, 0, "shipped advisory: v3.28.1 is fixed");
    assert.ok(planRke1({ ...base, advisory: widened }).notes.length === 0);
    assert.ok(planRke1({ ...base, advisory: widened }).steps.some((s) => s.id === "rke1-pin-system-images"));
  });
});
