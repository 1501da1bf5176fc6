// Fails when the source's import graph has a cycle. Type-only imports count too: a cycle of types
// is still two modules that cannot be understood (or moved) one without the other.
//
//   node dist/scripts/build/import-cycles.js [ROOT...]   (default: src)
//
// Exit 0 with a one-line count when there is no cycle; exit 1 listing each cycle otherwise.

import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");

/** Every non-test TypeScript module under `dir`. */
export function modulesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...modulesUnder(path));
    else if (name.endsWith(".ts") && !name.endsWith(".test.ts") && !name.endsWith(".d.ts")) out.push(path);
  }
  return out;
}

// `import … from "x"`, `export … from "x"`, `import "x"` and `import("x")`, across line breaks.
const SPECIFIER =
  /(?:\bimport\s+(?:type\s+)?(?:[\w*{}\s,]+?\s+from\s+)?|\bexport\s+(?:type\s+)?(?:\*(?:\s+as\s+\w+)?|\{[^}]*\})\s+from\s+|\bimport\s*\(\s*)["']([^"']+)["']/g;

/** The relative modules a source imports, resolved to .ts paths (packages and node: are skipped). */
export function importsOf(file: string, text: string): string[] {
  const out = new Set<string>();
  for (const m of text.matchAll(SPECIFIER)) {
    const spec = m[1] ?? "";
    if (!spec.startsWith(".")) continue;
    out.add(resolve(dirname(file), spec).replace(/\.js$/, ".ts"));
  }
  return [...out];
}

/** Strongly connected components with more than one module (or a module importing itself). */
export function cycles(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  // Iterative Tarjan: the graph is a few hundred modules, but recursion depth is not ours to pick.
  for (const root of graph.keys()) {
    if (index.has(root)) continue;
    const work: { node: string; edge: number }[] = [{ node: root, edge: 0 }];
    index.set(root, next);
    low.set(root, next++);
    stack.push(root);
    onStack.add(root);
    while (work.length > 0) {
      const top = work[work.length - 1];
      if (top === undefined) break;
      const edges = (graph.get(top.node) ?? []).filter((e) => graph.has(e));
      const to = edges[top.edge++];
      if (to !== undefined) {
        if (!index.has(to)) {
          index.set(to, next);
          low.set(to, next++);
          stack.push(to);
          onStack.add(to);
          work.push({ node: to, edge: 0 });
        } else if (onStack.has(to)) {
          low.set(top.node, Math.min(low.get(top.node) ?? 0, index.get(to) ?? 0));
        }
        continue;
      }
      work.pop();
      const parent = work[work.length - 1];
      if (parent !== undefined)
        low.set(parent.node, Math.min(low.get(parent.node) ?? 0, low.get(top.node) ?? 0));
      if (low.get(top.node) !== index.get(top.node)) continue;
      const component: string[] = [];
      for (;;) {
        const m = stack.pop();
        if (m === undefined) break;
        onStack.delete(m);
        component.push(m);
        if (m === top.node) break;
      }
      const selfLoop = component.length === 1 && (graph.get(top.node) ?? []).includes(top.node);
      if (component.length > 1 || selfLoop) found.push(component.sort());
    }
  }
  return found;
}

function main(): void {
  const roots = process.argv.slice(2);
  const files = (roots.length > 0 ? roots : ["src"]).flatMap((r) => modulesUnder(resolve(REPO, r)));
  const graph = new Map(files.map((f) => [f, importsOf(f, readFileSync(f, "utf8"))]));
  const found = cycles(graph);
  if (found.length === 0) {
    console.log(`import graph: ${String(files.length)} modules, no cycle`);
    return;
  }
  for (const c of found) console.error(`import cycle: ${c.map((f) => relative(REPO, f)).join(" ↔ ")}`);
  process.exitCode = 1;
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
