// Writes a memory layout into WebAssembly text: `{{NAME}}` becomes the layout's number for NAME and
// `{{NAME+N}}` that number plus N, outside `;;` comments; then one exported immutable i32 global per
// layout entry is added at the end of the module, so that whoever loads the binary can check it was
// built from the layout it reads (src/logs/kernel-layout.ts and kernel.ts do this for the line kernel).
// Appended last, the globals leave the indices of the module's own globals, and so its code, as they were.

import { KERNEL_LAYOUT, layoutExport } from "../../src/logs/kernel-layout.js";

const TOKEN = /\{\{([A-Z][A-Z0-9_]*)(?:\+(\d+))?\}\}/g;

export function expandLayout(
  wat: string,
  layout: Readonly<Record<string, number>>,
  exportName: (name: string) => string,
): string {
  const lines = wat.split("\n").map((line, i) => {
    const comment = line.indexOf(";;");
    const code = comment < 0 ? line : line.slice(0, comment);
    const expanded = code.replace(TOKEN, (_, name: string, plus: string | undefined) => {
      const value = layout[name];
      if (value === undefined) throw new Error(`line ${i + 1}: no layout entry ${name}`);
      return String(value + Number(plus ?? 0));
    });
    if (expanded.includes("{{")) throw new Error(`line ${i + 1}: malformed layout name in '${code.trim()}'`);
    return comment < 0 ? expanded : expanded + line.slice(comment);
  });
  const text = lines.join("\n");
  const close = text.lastIndexOf(")");
  if (close < 0 || !/^\s*\(module\b/m.test(text)) throw new Error("not a (module ...) text");
  const globals = Object.entries(layout).map(
    ([name, value]) => `  (global (export ${JSON.stringify(exportName(name))}) i32 (i32.const ${value}))\n`,
  );
  return `${text.slice(0, close)}${globals.join("")}${text.slice(close)}`;
}

export interface Layout {
  /** Where the layout is defined (its changes make the module stale). */
  source: string;
  values: Readonly<Record<string, number>>;
  exportName: (name: string) => string;
}

/** The memory layouts of .wat sources, by path from the repository root. */
export const LAYOUTS: Readonly<Record<string, Layout>> = {
  "src/logs/line-kernel.wat": {
    source: "src/logs/kernel-layout.ts",
    values: KERNEL_LAYOUT,
    exportName: layoutExport,
  },
};

/** The text wabt assembles: the source with its layout written in. */
export function watText(name: string, source: string): string {
  const layout = LAYOUTS[name];
  return layout === undefined ? source : expandLayout(source, layout.values, layout.exportName);
}
