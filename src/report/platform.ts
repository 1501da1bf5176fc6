// The platform section (distribution release, Rancher, KDM data, version gate) as plain lines,
// shared by the table and Markdown writers. Renders typed fields only.

import type { Platform } from "../model/finding.js";

export function platformLines(platform: Platform | undefined): string[] {
  if (platform === undefined) return [];
  const out: string[] = [];
  if (platform.release !== undefined)
    out.push(
      `Release: ${platform.release}${platform.releaseFrom !== undefined ? ` (${platform.releaseFrom})` : ""}`,
    );
  const r = platform.rancher;
  if (r !== undefined) {
    out.push(
      `Rancher: ${r.version ?? "version unknown"}${r.versionFrom !== undefined ? ` (${r.versionFrom})` : ""}`,
    );
    if (r.provisioning !== undefined) {
      const how =
        r.provisioning === "provisioned"
          ? "Provisioned by Rancher"
          : r.provisioning === "imported"
            ? "Imported into Rancher (not provisioned by it)"
            : "Provisioned by Rancher or imported: cannot be told";
      out.push(`${how}${r.provisioningFrom !== undefined ? ` (${r.provisioningFrom})` : ""}`);
    }
  }
  if (platform.kdm !== undefined) {
    out.push(`Version tables extended by ${platform.kdm.origin}`);
    for (const o of platform.kdm.overrides) out.push(`  the KDM file wins: ${o}`);
  }
  for (const g of platform.gate) {
    out.push(
      `${g.checked}: ${g.verdict}${g.unverified === true ? " (unverified)" : ""} [${g.advisoryId}] — ${g.reason}`,
    );
    if (g.fixed !== undefined)
      out.push(
        `  smallest fixed: ${g.fixed.version}${g.fixed.offeredBy !== undefined ? ` (${g.fixed.offeredBy})` : ""}`,
      );
  }
  return out;
}
