// The duration flags share one reader; their types differ only in the units they allow and what
// they add (a bare number of seconds, a one-minute minimum), and each keeps its own message.

import { test } from "node:test";
import assert from "node:assert/strict";
import { UsageError } from "../errors.js";
import { interval, parseDurationSeconds, promWindow } from "./flag-values.js";

const at = { flag: "x", command: "c" };

test("general durations: parts with ms..d, or a bare number of seconds", () => {
  assert.equal(parseDurationSeconds("45", "x"), 45);
  assert.equal(parseDurationSeconds("2h30m", "x"), 9000);
  assert.equal(parseDurationSeconds("1d", "x"), 86400);
  assert.equal(parseDurationSeconds("1500ms", "x"), 1.5);
  for (const bad of ["", "1w", "1h 30m", "h", "10x"])
    assert.throws(() => parseDurationSeconds(bad, "x"), /--x: expected a duration like/, bad);
});

test("--window: s..w, at least a minute, whole seconds", () => {
  const w = promWindow();
  assert.equal(w.parse("24h", at), 86400);
  assert.equal(w.parse("1w", at), 604800);
  assert.equal(w.parse("1h30m", at), 5400);
  assert.equal(w.parse(" 90m ", at), 5400);
  for (const bad of ["30s", "3600", "1ms", "", "7days"])
    assert.throws(() => w.parse(bad, at), /c: --x must be a duration of at least 1m/, bad);
});

test("the agent's intervals: ms..h, every part with a unit, in milliseconds", () => {
  const i = interval();
  assert.equal(i.parse("500ms", at), 500);
  assert.equal(i.parse("1h30m", at), 5_400_000);
  assert.equal(i.parse("10s", at), 10_000);
  for (const bad of ["30", "1d", "", "5 m"]) {
    assert.throws(() => i.parse(bad, at), UsageError, bad);
    assert.throws(() => i.parse(bad, at), /c: --x must be a duration like 30s, 10m or 1h30m/, bad);
  }
});
