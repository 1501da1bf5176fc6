// Calico release numbers: parsing tags, ordering releases and decoding RKE2 chart versions.

import type { CalicoVersion } from "../model/index.js";

const CALICO_TAG =
  /^v?(0|[1-9]\d{0,3})\.(0|[1-9]\d{0,3})\.(0|[1-9]\d{0,3})(?:-([0-9A-Za-z]+(?:[.-][0-9A-Za-z]+)*))?$/;

function makeVersion(major: number, minor: number, patch: number, build?: string): CalicoVersion {
  return {
    major,
    minor,
    patch,
    text: `v${major}.${minor}.${patch}`,
    ...(build === undefined || build === "" ? {} : { build }),
  };
}

/**
 * Parses a Calico release as written in image tags and docs: "v3.28.0", "3.28.0",
 * "v3.28.0-build20240625" (build "build20240625"), "v3.28.0-rancher1" (build "rancher1").
 * Undefined for anything else ("latest", "master", "v3.28", empty).
 */
export function parseCalicoVersion(text: string): CalicoVersion | undefined {
  const m = CALICO_TAG.exec(text.trim());
  if (m === null) return undefined;
  return makeVersion(Number(m[1]), Number(m[2]), Number(m[3]), m[4]);
}

/** Orders by major, minor, patch; the build suffix is ignored (same upstream code). */
export function compareCalicoVersions(a: CalicoVersion, b: CalicoVersion): number {
  return a.major - b.major || a.minor - b.minor || a.patch - b.patch;
}

// rke2-calico: "v3.27.300" (patch 3, chart revision 00), older "v3.19.2-203".
const RKE2_CALICO_CHART = /^v?(\d+)\.(\d+)\.(\d+)(?:-(\d+))?$/;
// rke2-canal: "v3.28.0-build2024062503" (build date 20240625, revision 03), old "v3.13.300-build2021022306".
const RKE2_CANAL_CHART = /^v?(\d+)\.(\d+)\.(\d+)-build(\d+)$/;

/** The patch number from a chart's third field: three or more digits carry a two-digit revision. */
function chartPatch(field: string): number {
  const n = Number(field);
  return field.length >= 3 ? Math.floor(n / 100) : n;
}

/**
 * The Calico release an RKE2 chart version ships.
 * - rke2-calico: "v3.27.300" -> v3.27.3, "v3.30.001" -> v3.30.0 (the last two digits are the chart
 *   revision); older "v3.19.2-203" -> v3.19.2.
 * - rke2-canal: "v3.28.0-build2024062503" -> v3.28.0 with build "build20240625", which is the tag of
 *   the `rancher/hardened-calico` image (the chart's trailing two-digit revision is dropped).
 */
export function calicoVersionFromRke2Chart(
  chart: "rke2-calico" | "rke2-canal",
  chartVersion: string,
): CalicoVersion | undefined {
  const text = chartVersion.trim();
  if (chart === "rke2-calico") {
    const m = RKE2_CALICO_CHART.exec(text);
    if (m === null) return undefined;
    return makeVersion(Number(m[1]), Number(m[2]), chartPatch(m[3] ?? ""));
  }
  const m = RKE2_CANAL_CHART.exec(text);
  if (m === null) return undefined;
  const stamp = m[4] ?? "";
  const build = stamp.length === 10 ? `build${stamp.slice(0, 8)}` : `build${stamp}`;
  return makeVersion(Number(m[1]), Number(m[2]), chartPatch(m[3] ?? ""), build);
}
