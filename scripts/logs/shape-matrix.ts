// The shape x verdict matrix: every excerpt fixture saved in every capture shape of
// scripts/fixtures/capture-shapes.ts, scanned by the real reader and diagnosed; prints one Markdown
// row per fixture with the verdict per shape (a cell differing from the plain form is marked !).
// Usage: node dist/scripts/logs/shape-matrix.js

import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { loadAdvisories } from "../../src/advisories/load.js";
import { diagnose } from "../../src/analyze/diagnose.js";
import { compileSignatures, scanLogFile } from "../../src/logs/index.js";
import type { Snapshot } from "../../src/model/snapshot.js";
import { plainLines, text, WRAPS } from "../fixtures/capture-shapes.js";

const DIR = fileURLToPath(new URL("../../../test/fixtures/excerpts/", import.meta.url));

const SHORT: Record<string, string> = { affected: "A", "not-affected": "N", unknown: "U", "at-risk": "R" };

async function main(): Promise<void> {
  const advisories = await loadAdvisories();
  const advisory = advisories.find((a) => a.id === "CNID-2024-0001");
  if (advisory === undefined) throw new Error("CNID-2024-0001 not loaded");
  const set = compileSignatures(advisories);
  const tmp = await mkdtemp(join(tmpdir(), "cnidoctor-matrix-"));
  const shapes = ["plain", ...Object.keys(WRAPS)];
  const out: string[] = [
    "Verdict per capture shape (A affected, N not affected, U unknown; ! differs from plain)",
    "",
    `| fixture | ${shapes.join(" | ")} |`,
    `|---|${shapes.map(() => "---").join("|")}|`,
  ];
  let n = 0;
  let differ = 0;
  try {
    for (const file of (await readdir(DIR)).filter((f) => f !== "README.md").sort()) {
      const lines = await plainLines(DIR, file);
      const cells: string[] = [];
      let plain = "";
      for (const shape of shapes) {
        const wrap = WRAPS[shape];
        const data = wrap === undefined ? text(lines.map((l) => l.text)) : wrap(lines);
        const path = join(tmp, `c${n++}`);
        await writeFile(path, data);
        const snapshot: Snapshot = {
          target: { kind: "logs", name: file },
          collectedAt: "",
          nodes: [],
          installs: [],
          logs: [await scanLogFile(path, set)],
          gaps: [],
        };
        const status = diagnose(snapshot, advisory).verdicts[0]?.status ?? "none";
        if (shape === "plain") plain = status;
        const mark = status === plain ? "" : "!";
        if (mark !== "") differ++;
        cells.push(`${SHORT[status] ?? status}${mark}`);
      }
      out.push(`| ${file} | ${cells.join(" | ")} |`);
    }
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
  out.push("", `${differ} cell(s) differ from the plain form`);
  process.stdout.write(`${out.join("\n")}\n`);
  if (differ > 0) process.exitCode = 1;
}

await main();
