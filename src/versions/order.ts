// A total order over the version names that appear in Rancher data: RKE1 k8s versions
// ("v1.30.4-rancher1-1"), RKE2 releases ("v1.30.4+rke2r1"), RKE CLI releases ("v1.6.2-rc.2"),
// Rancher versions ("v2.9.2") and k8s minors ("v1.30").

const CORE = /^v?(\d+)\.(\d+)(?:\.(\d+))?(.*)$/s;

/** Compares strings chunk by chunk, digit runs numerically, everything else by code unit. */
function naturalCompare(a: string, b: string): number {
  const ta = a.match(/\d+|\D+/g) ?? [];
  const tb = b.match(/\d+|\D+/g) ?? [];
  for (let i = 0; i < Math.min(ta.length, tb.length); i++) {
    const x = ta[i] ?? "";
    const y = tb[i] ?? "";
    if (x === y) continue;
    const nx = /^\d/.test(x);
    const ny = /^\d/.test(y);
    if (nx && ny) return Number(x) - Number(y) || (x < y ? -1 : 1);
    return x < y ? -1 : 1;
  }
  return ta.length - tb.length;
}

/** Where a suffix sorts relative to the bare version: "-pre" before it, "+build" after it. */
function suffixRank(rest: string): number {
  if (rest === "") return 0;
  return rest.startsWith("-") ? -1 : 1;
}

/**
 * Orders version names by their numeric core, then a "-" suffix (pre-release, or RKE1's
 * "-rancherN-M") before the bare version before a "+" suffix (RKE2's "+rke2rN"); suffixes of the
 * same kind compare naturally ("rc2" < "rc10"). Strings without a version core sort after all
 * versions, naturally among themselves.
 */
export function compareVersionNames(a: string, b: string): number {
  const ma = CORE.exec(a);
  const mb = CORE.exec(b);
  if (ma === null || mb === null) {
    if (ma !== null) return -1;
    if (mb !== null) return 1;
    return naturalCompare(a, b);
  }
  for (const i of [1, 2, 3]) {
    const d = Number(ma[i] ?? "-1") - Number(mb[i] ?? "-1");
    if (d !== 0) return d;
  }
  const ra = ma[4] ?? "";
  const rb = mb[4] ?? "";
  return suffixRank(ra) - suffixRank(rb) || naturalCompare(ra, rb);
}

/** "v1.30.4-rancher1-1", "v1.30.4+rke2r1", "1.30.4" -> "1.30"; undefined when there is no minor. */
export function minorOf(version: string): string | undefined {
  const m = CORE.exec(version.trim());
  return m === null ? undefined : `${m[1] ?? ""}.${m[2] ?? ""}`;
}
