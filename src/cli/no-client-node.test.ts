// No long-running cnidoctor process imports @kubernetes/client-node (~65 MB of RSS it would keep
// for good): only the short-lived loader child (kube-loader.js) resolves kubeconfigs with it. A
// static walk over the compiled import graph from bin.js, following static imports, re-exports,
// dynamic import("…") and require("…") of literal specifiers, so every command's path is covered
// (bin.js reaches main.js, lean-main.js and agent-main.js by dynamic import).

import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const CLI = dirname(fileURLToPath(import.meta.url));
const DIST = join(CLI, "..", "..");

const SPECIFIER =
  /(?:\bimport\s*(?:[\w*${}\s,]+\s*from\s*)?|\bexport\s*[\w*${}\s,]*\s*from\s*|\bimport\s*\(\s*|\brequire\s*\(\s*)["']([^"']+)["']/g;

/** Every module reachable from `entry`; bare specifiers (packages, built-ins) by name. */
function reachable(entry: string): { files: Set<string>; packages: Map<string, string> } {
  const files = new Set<string>();
  const packages = new Map<string, string>();
  const todo = [entry];
  for (let file = todo.pop(); file !== undefined; file = todo.pop()) {
    if (files.has(file)) continue;
    files.add(file);
    for (const m of readFileSync(file, "utf8").matchAll(SPECIFIER)) {
      const spec = m[1] ?? "";
      if (spec.startsWith(".")) {
        const target = join(dirname(file), spec);
        if (existsSync(target)) todo.push(target);
      } else if (!packages.has(spec)) packages.set(spec, relative(DIST, file));
    }
  }
  return { files, packages };
}

function clientNode(packages: Map<string, string>): string[] {
  return [...packages]
    .filter(([p]) => p.startsWith("@kubernetes/client-node"))
    .map(([p, by]) => `${p} (${by})`);
}

test("no command's process imports @kubernetes/client-node; only the loader child does", () => {
  const { files, packages } = reachable(join(CLI, "bin.js"));
  // The walk reached every command, including apply, rollback and the agent's client.
  for (const m of [
    "cli/commands/apply.js",
    "cli/commands/rollback.js",
    "cli/commands/scan.js",
    "cli/commands/agent.js",
    "kube/client.js",
    "apply/restart.js",
  ])
    assert.ok(files.has(join(DIST, "src", m)), `the walk from bin.js missed ${m}`);
  assert.deepEqual(clientNode(packages), [], "a command's process imports @kubernetes/client-node");
  assert.ok(!files.has(join(CLI, "kube-loader.js")), "bin.js imports the loader child in-process");
});

test("the walk sees the loader child's (dynamic) import of @kubernetes/client-node", () => {
  // The control that makes the test above able to fail: the same walk does find the package.
  assert.notDeepEqual(clientNode(reachable(join(CLI, "kube-loader.js")).packages), []);
});
