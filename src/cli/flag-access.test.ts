import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import { UsageError } from "../errors.js";
import { flagValue } from "./flag-access.js";
import { defaultFor, FLAGS, flagsFor, type FlagSpec } from "./flags.js";
import { parseCommandFlags } from "./parse-flags.js";
import { planOptions } from "./commands/remediate-shared.js";
import { DEFAULT_PLAN_OPTIONS } from "../remediate/index.js";

const COMMANDS_DIR = fileURLToPath(new URL("../../../src/cli/commands/", import.meta.url));
const sources = readdirSync(COMMANDS_DIR)
  .filter((n) => n.endsWith(".ts") && !n.endsWith(".test.ts"))
  .map((n) => ({ name: n, text: readFileSync(join(COMMANDS_DIR, n), "utf8") }));

describe("one flag table: values and defaults live in flags.ts only", () => {
  test("commands read flags through flagValue (no raw args.flags, so no private default)", () => {
    assert.ok(sources.length > 10);
    for (const { name, text } of sources) assert.doesNotMatch(text, /\bargs\.flags\b|\.flags\[/, name);
  });

  test("no literal fallback after flagValue: a default is written in the table", () => {
    // A non-empty string or a number after `flagValue(…) ??` (an empty one only means "none").
    const fallback = /flagValue\([^)]*\)\s*\?\?\s*(?:(["'`])(?!\1)|\d)/;
    assert.match('flagValue(args, "since") ?? "1h"', fallback);
    for (const { name, text } of sources) assert.doesNotMatch(text, fallback, name);
  });

  test("each flag name has one spec", () => {
    const names = FLAGS.map((f: FlagSpec) => f.name);
    assert.deepEqual(
      names.filter((n, i) => names.indexOf(n) !== i),
      [],
    );
  });

  test("every default parses with its flag's value type on every command that takes it", () => {
    for (const f of FLAGS as readonly FlagSpec[])
      for (const command of f.commands)
        if (defaultFor(f, command) !== undefined)
          assert.doesNotThrow(
            () => flagValue(parseCommandFlags(command, [], {}), f.name as never),
            `${command} --${f.name}`,
          );
  });

  test("the table's plan defaults are the remediation's", () => {
    const o = planOptions(parseCommandFlags("plan", [], {}));
    for (const key of [
      "outputDir",
      "maxUnavailable",
      "batchTimeoutSeconds",
      "leaseTtlSeconds",
      "memoryLimit",
    ] as const)
      assert.equal(o[key], DEFAULT_PLAN_OPTIONS[key], key);
  });
});

describe("typed values", () => {
  test("parsed once, by the table's type, with the command's default", () => {
    const args = parseCommandFlags("scan", ["--log-bytes", "1Mi", "--timeout", "2m"], {});
    assert.equal(flagValue(args, "log-bytes"), 2 ** 20);
    assert.equal(flagValue(args, "timeout"), 120);
    assert.equal(flagValue(args, "qps"), 100);
    assert.deepEqual(flagValue(args, "since"), { beforeEnd: 3_600_000 });
    assert.equal(flagValue(parseCommandFlags("logs", ["x"], {}), "since"), undefined);
    assert.deepEqual(flagValue(parseCommandFlags("logs", ["x", "--since", "2h"], {}), "since"), {
      beforeEnd: 7_200_000,
    });
    assert.equal(flagValue(parseCommandFlags("agent", [], {}), "state-dir"), "/var/lib/cnidoctor-agent");
    assert.equal(flagValue(parseCommandFlags("apply", [], {}), "state-dir"), undefined);
    assert.equal(
      flagValue(parseCommandFlags("agent", [], { CNIDOCTOR_STATE_DIR: "/x" }), "state-dir"),
      "/var/lib/cnidoctor-agent",
    );
    assert.equal(flagValue(parseCommandFlags("apply", [], { CNIDOCTOR_STATE_DIR: "/x" }), "state-dir"), "/x");
    assert.deepEqual(flagValue(parseCommandFlags("agent", [], {}), "listen"), {
      host: "0.0.0.0",
      port: 9808,
    });
    assert.deepEqual(flagValue(parseCommandFlags("check", ["--calico", " v1, ,v2 "], {}), "calico"), [
      "v1",
      "v2",
    ]);
  });

  test("per-command values: -o html is refused on plan and check with their message", () => {
    for (const command of ["plan", "check"])
      assert.throws(
        () => flagValue(parseCommandFlags(command, ["-o", "html"], {}), "output"),
        (e: unknown) =>
          e instanceof UsageError && e.message === `${command}: -o must be table, json, yaml or markdown`,
      );
    assert.equal(flagValue(parseCommandFlags("scan", ["-o", "html"], {}), "output"), "html");
  });

  test("collect -o/--output DIR is the old name of --output-dir: still read, with a note", () => {
    for (const argv of [
      ["-o", "d"],
      ["--output", "d"],
    ]) {
      const args = parseCommandFlags("collect", argv, {});
      assert.equal(flagValue(args, "output-dir"), "d");
      assert.deepEqual(args.deprecations, [
        "note: collect: -o/--output is deprecated and goes away in the next release: use --output-dir",
      ]);
    }
    assert.equal(parseCommandFlags("collect", ["--output-dir", "d"], {}).deprecations, undefined);
    assert.throws(() => parseCommandFlags("scan", ["-o", "./dir"], {}), /scan: --output must be one of/);
  });

  test("a bad value keeps its one-line message, naming the spelling given", () => {
    assert.throws(
      () => flagValue(parseCommandFlags("scan", ["--sample", "2h"], {}), "resource-sample"),
      (e: unknown) =>
        e instanceof UsageError && e.message === "--sample: must be between 0s and 1h (got '2h')",
    );
    assert.throws(
      () => flagValue(parseCommandFlags("scan", ["--since", "soon"], {}), "since"),
      (e: unknown) =>
        e instanceof UsageError &&
        e.message === "--since: expected a duration like 30s, 15m, 1h (got 'soon')",
    );
    assert.throws(
      () => flagValue(parseCommandFlags("logs", ["--since", "soon"], {}), "since"),
      (e: unknown) =>
        e instanceof UsageError &&
        e.message === "logs: --since: expected an RFC 3339 time or a duration like 30s, 15m, 1h (got 'soon')",
    );
  });

  test("help lists each flag of a command once", () => {
    for (const command of ["scan", "collect", "logs", "plan", "apply", "agent", "rollback"]) {
      const names = flagsFor(command).map((f) => f.name);
      assert.equal(new Set(names).size, names.length, command);
    }
  });
});
