// The line kernel's memory layout is defined once (kernel-layout.ts): these tests fail when the
// .wat or a built .wasm disagrees with it, or when its regions overlap.

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import wabtInit from "wabt";
import { expandLayout, watText } from "../../scripts/build/wat-layout.js";
import { HIT_CAP, KERNEL_LAYOUT, RUN_CAP, layoutExport } from "./kernel-layout.js";
import { kernelOfModule, LineKernel } from "./kernel.js";

const WAT = new URL("../../../src/logs/line-kernel.wat", import.meta.url);
const WASM = new URL("./line-kernel.wasm", import.meta.url);
const NAME = "src/logs/line-kernel.wat";

/** Assembles the kernel's text with `layout` written in, as scripts/build/wasm.ts does. */
async function assemble(
  layout: Readonly<Record<string, number>>,
  exportName: (name: string) => string = layoutExport,
): Promise<Uint8Array> {
  const wabt = await wabtInit();
  const text = expandLayout(readFileSync(WAT, "utf8"), layout, exportName);
  const module = wabt.parseWat(NAME, text, { simd: true });
  try {
    module.resolveNames();
    module.validate();
    return module.toBinary({ write_debug_names: false }).buffer;
  } finally {
    module.destroy();
  }
}

describe("line kernel memory layout", () => {
  test("the built line-kernel.wasm carries the layout kernel.ts reads", () => {
    const kernel = kernelOfModule(readFileSync(WASM));
    assert.ok(kernel instanceof LineKernel, typeof kernel === "string" ? kernel : "not a kernel");
  });

  test("a module assembled with another layout is refused, naming the first entry that differs", async () => {
    const moved = await assemble({ ...KERNEL_LAYOUT, RUNS: KERNEL_LAYOUT.RUNS + 64 });
    assert.equal(
      kernelOfModule(moved),
      `line-kernel.wasm was built for another memory layout, RUNS ${KERNEL_LAYOUT.RUNS + 64} where kernel-layout.ts has ${KERNEL_LAYOUT.RUNS}; rebuild it with npm run build`,
    );
    const same = await assemble(KERNEL_LAYOUT);
    assert.ok(kernelOfModule(same) instanceof LineKernel);
  });

  test("a module without the layout globals is refused", async () => {
    const unnamed = await assemble(KERNEL_LAYOUT, (name) => `other.${name}`);
    assert.equal(
      kernelOfModule(unnamed),
      `line-kernel.wasm was built for another memory layout, TABLES missing where kernel-layout.ts has ${KERNEL_LAYOUT.TABLES}; rebuild it with npm run build`,
    );
  });

  test("the .wat names every address of the layout instead of writing its number", () => {
    const code = readFileSync(WAT, "utf8")
      .split("\n")
      .map((line) => (line.includes(";;") ? line.slice(0, line.indexOf(";;")) : line))
      .join("\n");
    const { SCRATCH, BUCKET_SETS, NEEDLES, RESULTS, RUNS, LITERALS, HITS, DATA } = KERNEL_LAYOUT;
    const addresses = [SCRATCH, SCRATCH + 16, BUCKET_SETS, NEEDLES, RESULTS, RESULTS + 4, RESULTS + 8];
    addresses.push(RESULTS + 12, RUNS, LITERALS, HITS, DATA);
    for (const value of addresses) {
      assert.doesNotMatch(code, new RegExp(`(?:const |offset=)${value}\\b`), `${value} written as a number`);
    }
    for (const [, name] of code.matchAll(/\{\{([A-Z_]+)/g)) {
      assert.ok(name !== undefined && name in KERNEL_LAYOUT, `unknown layout name ${String(name)}`);
    }
    assert.doesNotThrow(() => watText(NAME, readFileSync(WAT, "utf8")));
  });

  test("the regions lie in order without overlapping, and the data starts inside the initial memory", () => {
    const L = KERNEL_LAYOUT;
    const ends: [string, number, number][] = [
      ["TABLES", L.TABLES, L.TABLES + 6 * 16],
      ["SCRATCH", L.SCRATCH, L.SCRATCH + 32],
      ["BUCKET_SETS", L.BUCKET_SETS, L.BUCKET_SETS + 256 * 4],
      ["NEEDLES", L.NEEDLES, L.NEEDLES + (L.MAX_NEEDLES << L.NEEDLE_SHIFT)],
      ["RESULTS", L.RESULTS, L.RESULTS + 16],
      ["RUNS", L.RUNS, L.RUNS + RUN_CAP * L.RUN_BYTES],
      ["LITERALS", L.LITERALS, L.HITS],
      ["HITS", L.HITS, L.HITS + (HIT_CAP << L.HIT_SHIFT)],
      ["DATA", L.DATA, L.DATA + L.SLACK],
    ];
    for (let i = 1; i < ends.length; i++) {
      const [before, , end] = ends[i - 1] ?? ["", 0, 0];
      const [name, start] = ends[i] ?? ["", 0, 0];
      assert.ok(end <= start, `${before} ends at ${end}, after ${name} starts at ${start}`);
    }
    assert.ok(Number.isInteger(RUN_CAP) && RUN_CAP > 0);
    assert.ok(L.DATA + L.SLACK <= L.INITIAL_PAGES * 65536);
  });
});
