import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { decideStatus } from "./decide.js";
import type { ConditionResult } from "./conditions.js";

function cond(holds: boolean | undefined, extra: Partial<ConditionResult> = {}): ConditionResult {
  return {
    id: "xdp-enabled",
    kind: "felix-setting",
    holds,
    required: true,
    message: `holds=${String(holds)}`,
    assumed: false,
    ...extra,
  };
}
const inRange = { verdict: "in-range" as const, text: "v3.28.0", reason: "in range" };
const outOfRange = { verdict: "out-of-range" as const, text: "v3.28.1", reason: "fixed version" };
const unknownVersion = { verdict: "unknown" as const, reason: "image has no tag" };

describe("decideStatus", () => {
  const cases: [string, Parameters<typeof decideStatus>[0], string][] = [
    [
      "symptom + affected version",
      { version: inRange, conditions: [cond(true)], symptomSeen: true },
      "affected",
    ],
    [
      "symptom + unrecognised version",
      { version: unknownVersion, conditions: [cond(true)], symptomSeen: true },
      "affected",
    ],
    [
      "symptom beats a fixed version tag",
      { version: outOfRange, conditions: [cond(true)], symptomSeen: true },
      "affected",
    ],
    [
      "no symptom, affected version, conditions hold",
      { version: inRange, conditions: [cond(true)], symptomSeen: false },
      "at-risk",
    ],
    ["fixed version", { version: outOfRange, conditions: [cond(true)], symptomSeen: false }, "not-affected"],
    ["XDP disabled", { version: inRange, conditions: [cond(false)], symptomSeen: false }, "not-affected"],
    [
      "unknown version, XDP disabled",
      { version: unknownVersion, conditions: [cond(false)], symptomSeen: false },
      "not-affected",
    ],
    [
      "unknown version, conditions hold",
      { version: unknownVersion, conditions: [cond(true)], symptomSeen: false },
      "unknown",
    ],
    [
      "affected version, condition undecided",
      { version: inRange, conditions: [cond(undefined)], symptomSeen: false },
      "unknown",
    ],
    [
      "risk factor false does not decide",
      {
        version: inRange,
        conditions: [cond(true), cond(false, { id: "kernel", required: false })],
        symptomSeen: false,
      },
      "at-risk",
    ],
  ];
  for (const [name, input, expected] of cases) {
    test(name, () => {
      const d = decideStatus(input);
      assert.equal(d.status, expected);
      assert.ok(d.reasons.length > 0, "every status carries its reasons");
    });
  }

  test("a symptom with XDP reported off is still affected, with a note saying so", () => {
    const d = decideStatus({ version: inRange, conditions: [cond(false)], symptomSeen: true });
    assert.equal(d.status, "affected");
    assert.ok(d.reasons.some((r) => r.startsWith("note:")));
  });

  test("at-risk built on an assumed default records what it depended on", () => {
    const d = decideStatus({
      version: inRange,
      conditions: [cond(true, { assumed: true, needs: "felix-configuration" })],
      symptomSeen: false,
    });
    assert.equal(d.status, "at-risk");
    assert.deepEqual(d.dependsOn, ["felix-configuration"]);
  });
});
