import { test } from "node:test";
import assert from "node:assert/strict";
import { cycles, importsOf } from "./import-cycles.js";

test("relative imports, type-only imports, re-exports and dynamic imports are edges; packages are not", () => {
  const text = [
    'import { a } from "./a.js";',
    'import type { B } from "../b.js";',
    'export * from "./c.js";',
    'export type { D } from "./d.js";',
    "import {\n  e,\n  f,\n} from './e.js';",
    'const g = await import("./g.js");',
    'import "./side.js";',
    'import { readFileSync } from "node:fs";',
    'import { parse } from "yaml";',
  ].join("\n");
  assert.deepEqual(importsOf("/r/src/x/m.ts", text).sort(), [
    "/r/src/b.ts",
    "/r/src/x/a.ts",
    "/r/src/x/c.ts",
    "/r/src/x/d.ts",
    "/r/src/x/e.ts",
    "/r/src/x/g.ts",
    "/r/src/x/side.ts",
  ]);
});

test("a cycle through three modules is found once; an acyclic graph has none", () => {
  const g = new Map<string, string[]>([
    ["a", ["b"]],
    ["b", ["c", "d"]],
    ["c", ["a"]],
    ["d", []],
    ["e", ["e"]],
  ]);
  assert.deepEqual(cycles(g), [["a", "b", "c"], ["e"]]);
  assert.deepEqual(
    cycles(
      new Map([
        ["a", ["b", "c"]],
        ["b", ["c"]],
        ["c", []],
      ]),
    ),
    [],
  );
});
