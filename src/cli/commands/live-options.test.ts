import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { UsageError } from "../../errors.js";
import { parseDuration, parsePositive, parseSize } from "../flag-values.js";
import { parseCommandFlags } from "../parse-flags.js";
import { liveSettings } from "./live-options.js";

describe("live flag values", () => {
  test("durations", () => {
    assert.equal(parseDuration("1h", "since"), 3600);
    assert.equal(parseDuration("2h30m", "since"), 9000);
    assert.equal(parseDuration("90", "since"), 90);
    assert.equal(parseDuration("500ms", "request-timeout"), 0.5);
    for (const bad of ["", "1x", "h", "-5m", "1h junk"])
      assert.throws(() => parseDuration(bad, "since"), UsageError, bad);
  });

  test("sizes", () => {
    assert.equal(parseSize("16Mi", "log-bytes"), 16 * 2 ** 20);
    assert.equal(parseSize("1Gi", "log-bytes"), 2 ** 30);
    assert.equal(parseSize("500000", "log-bytes"), 500000);
    assert.equal(parseSize("10MB", "log-bytes"), 10_000_000);
    assert.throws(() => parseSize("16 furlongs", "log-bytes"), /--log-bytes/);
  });

  test("positive numbers", () => {
    assert.equal(parsePositive("16", "concurrency", { integer: true }), 16);
    assert.equal(parsePositive("2.5", "qps", { integer: false }), 2.5);
    assert.throws(() => parsePositive("0", "concurrency", { integer: true }), /--concurrency/);
    assert.throws(() => parsePositive("1.5", "concurrency", { integer: true }), /whole number/);
  });

  test("defaults suit a large cluster; flags override them", () => {
    const d = liveSettings({ command: "scan", positionals: [], flags: {} });
    assert.deepEqual(d, {
      bounds: { sinceSeconds: 3600, limitBytes: 16 * 2 ** 20 },
      concurrency: 16,
      qps: 100,
      burst: 200,
      timeoutMs: 30_000,
      deadlineMs: 600_000,
      sampleSeconds: 0,
    });
    const s = liveSettings({
      command: "scan",
      positionals: [],
      flags: {
        since: "15m",
        "log-bytes": "1Mi",
        concurrency: "4",
        nodes: "role=worker",
        "resource-sample": "60",
      },
    });
    assert.equal(s.bounds.sinceSeconds, 900);
    assert.equal(s.bounds.limitBytes, 2 ** 20);
    assert.equal(s.concurrency, 4);
    assert.equal(s.nodeSelector, "role=worker");
    assert.equal(s.sampleSeconds, 60);
  });

  test("the table's defaults are the settings of a parsed command line without flags", () => {
    for (const command of ["scan", "collect", "plan", "apply"])
      assert.deepEqual(
        liveSettings(parseCommandFlags(command, [], {})),
        liveSettings({ command, positionals: [], flags: {} }),
      );
  });

  test("--since takes an RFC 3339 time too: a duration back from now", () => {
    const at = new Date(Date.now() - 2 * 3600_000).toISOString();
    const s = liveSettings(parseCommandFlags("scan", ["--since", at], {}));
    assert.ok(Math.abs(s.bounds.sinceSeconds - 7200) <= 2, String(s.bounds.sinceSeconds));
    assert.throws(
      () => liveSettings(parseCommandFlags("scan", ["--since", "2020-01-01T00:00:00Z"], {})),
      /^UsageError: --since: 2020-01-01T00:00:00Z must be between 1s and 366d ago/,
    );
    assert.throws(
      () => liveSettings(parseCommandFlags("collect", ["--since", "2999-01-01T00:00:00Z"], {})),
      /in the future/,
    );
  });

  test("--sample DURATION is the old name of --resource-sample: still read, with a note", () => {
    const args = parseCommandFlags("plan", ["--sample", "30"], {});
    assert.equal(liveSettings(args).sampleSeconds, 30);
    assert.deepEqual(args.deprecations, [
      "note: plan: --sample is deprecated and goes away in the next release: use --resource-sample",
    ]);
    assert.throws(
      () => parseCommandFlags("scan", ["--sample", "30", "--resource-sample", "10"], {}),
      /scan: --sample is the old name of --resource-sample: give only --resource-sample/,
    );
  });
});
