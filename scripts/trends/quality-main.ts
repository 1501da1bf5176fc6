// npm run quality:trends [-- --seed N --per-type N]: prints precision and recall per series type
// for the shipped advisory's thresholds.
import { parseArgs } from "node:util";
import { loadAdvisories } from "../../src/advisories/load.js";
import { formatQuality, measureQuality } from "./quality.js";

const { values } = parseArgs({
  options: { seed: { type: "string", default: "20240626" }, "per-type": { type: "string", default: "200" } },
});
const [advisory] = (await loadAdvisories()).filter((a) => a.id === "CNID-2024-0001");
if (!advisory) throw new Error("CNID-2024-0001 not found");
const started = process.hrtime.bigint();
const q = measureQuality(advisory.symptoms, Number(values.seed), Number(values["per-type"]));
process.stdout.write(formatQuality(q));
console.log(`\n(${(Number(process.hrtime.bigint() - started) / 1e9).toFixed(1)} s)`);
