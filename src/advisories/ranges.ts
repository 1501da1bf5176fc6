// OSV-style range evaluation. Unlike scanners that treat an unparsable version as "not vulnerable",
// this returns "unknown" so the caller can report it honestly.

import type { AffectedPackage, VersionRange } from "../model/advisory.js";

export type RangeVerdict =
  { result: "in-range"; range: string } | { result: "out-of-range" } | { result: "unknown"; reason: string };

interface Triple {
  major: number;
  minor: number;
  patch: number;
}

export function parseTriple(text: string): Triple | undefined {
  const m = /^v?(\d+)\.(\d+)(?:\.(\d+))?/.exec(text.trim());
  if (!m) return undefined;
  return { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3] ?? 0) };
}

function cmp(a: Triple, b: Triple): number {
  return a.major - b.major || a.minor - b.minor || a.patch - b.patch;
}

function inRange(v: Triple, r: VersionRange): boolean | undefined {
  const intro = parseTriple(r.introduced);
  if (!intro) return undefined;
  if (cmp(v, intro) < 0) return false;
  if (r.fixed !== undefined) {
    const fixed = parseTriple(r.fixed);
    return fixed ? cmp(v, fixed) < 0 : undefined;
  }
  if (r.lastAffected !== undefined) {
    const last = parseTriple(r.lastAffected);
    return last ? cmp(v, last) <= 0 : undefined;
  }
  return true;
}

function describe(r: VersionRange): string {
  if (r.fixed !== undefined) return `>= ${r.introduced}, < ${r.fixed}`;
  if (r.lastAffected !== undefined)
    return r.introduced === r.lastAffected ? `= ${r.introduced}` : `${r.introduced} .. ${r.lastAffected}`;
  return `>= ${r.introduced}`;
}

/** Is `version` (x.y.z, optional v and build suffix) inside any range of `pkg`? */
export function matchVersion(pkg: AffectedPackage, version: string): RangeVerdict {
  const v = parseTriple(version);
  if (!v) return { result: "unknown", reason: `'${version}' is not a version cnidoctor can compare` };
  if (pkg.ranges) {
    for (const r of pkg.ranges) {
      const hit = inRange(v, r);
      if (hit === undefined)
        return { result: "unknown", reason: `range ${describe(r)} in the advisory is not comparable` };
      if (hit) return { result: "in-range", range: describe(r) };
    }
    return { result: "out-of-range" };
  }
  const exact = (pkg.versions ?? []).some((x) => x.replace(/^v/, "") === version.replace(/^v/, ""));
  return exact ? { result: "in-range", range: `listed version ${version}` } : { result: "out-of-range" };
}

/** The fixed version for the release line ("3.28") of `version`, when the advisory names one. */
export function fixedVersionFor(pkg: AffectedPackage, version: string): string | undefined {
  const v = parseTriple(version);
  if (!v || !pkg.fixedIn) return undefined;
  return pkg.fixedIn[`${v.major}.${v.minor}`];
}
