import { test } from "node:test";
import assert from "node:assert/strict";
import { expandLayout, watText } from "./wat-layout.js";

const layout = { BASE: 1024, STRIDE: 12 };
const name = (n: string): string => `layout.${n}`;

test("names become numbers, NAME+N adds N, comments are left alone, globals are appended last", () => {
  const wat = [
    ";; {{BASE}} in a comment stays",
    "(module",
    "  (global $g (mut i32) (i32.const 0))",
    "  (func (i32.store (i32.const {{BASE+8}}) (i32.mul (i32.const 3) (i32.const {{STRIDE}}))))) ;; {{NOPE}}",
    ")",
  ].join("\n");
  assert.equal(
    expandLayout(wat, layout, name),
    [
      ";; {{BASE}} in a comment stays",
      "(module",
      "  (global $g (mut i32) (i32.const 0))",
      "  (func (i32.store (i32.const 1032) (i32.mul (i32.const 3) (i32.const 12))))) ;; {{NOPE}}",
      '  (global (export "layout.BASE") i32 (i32.const 1024))',
      '  (global (export "layout.STRIDE") i32 (i32.const 12))',
      ")",
    ].join("\n"),
  );
});

test("a name the layout does not have, or a malformed one, stops the build", () => {
  assert.throws(
    () => expandLayout("(module\n (i32.const {{OTHER}}))", layout, name),
    /line 2: no layout entry OTHER/,
  );
  assert.throws(() => expandLayout("(module\n (i32.const {{BASE-4}}))", layout, name), /line 2: malformed/);
  assert.throws(() => expandLayout(";; no module", layout, name), /not a \(module/);
});

test("a source without a layout is assembled as it is", () => {
  assert.equal(watText("src/other.wat", "(module)"), "(module)");
});
