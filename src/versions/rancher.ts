// Which Kubernetes versions a Rancher version offers, from the KDM gates the tables carry: RKE2
// releases by their channel-server range, RKE1 versions by their minor's K8sVersionInfo gate.
// "Offers" assumes refreshed metadata: Rancher refreshes KDM out of band, so the gates decide.

import { parseTriple } from "../advisories/ranges.js";
import { minorOf } from "./order.js";
import { rke1ListedByKdm, type VersionTables } from "./tables.js";

/** Compares Rancher versions by x.y.z ("v2.9.0-alpha1" counts as 2.9.0); undefined when unreadable. */
export function compareRancher(a: string, b: string): number | undefined {
  const x = parseTriple(a);
  const y = parseTriple(b);
  if (x === undefined || y === undefined) return undefined;
  return x.major - y.major || x.minor - y.minor || x.patch - y.patch;
}

function within(version: string, min: string | undefined, max: string | undefined): boolean {
  const lo = min === undefined ? 0 : compareRancher(version, min);
  const hi = max === undefined ? 0 : compareRancher(version, max);
  return lo !== undefined && hi !== undefined && lo >= 0 && hi <= 0;
}

/** Whether Rancher `rancher` (refreshed metadata) offers RKE2 `release`; false when no KDM lists it. */
export function rancherOffersRke2(tables: VersionTables, rancher: string, release: string): boolean {
  const r = tables.rke2Releases[release]?.rancher;
  return r !== undefined && within(rancher, r.minChannelServerVersion, r.maxChannelServerVersion);
}

/**
 * Whether Rancher `rancher` (refreshed metadata) offers RKE1 Kubernetes version `k8s`: some KDM lists
 * it and its minor's K8sVersionInfo gate admits the Rancher version.
 */
export function rancherOffersRke1(tables: VersionTables, rancher: string, k8s: string): boolean {
  const entry = tables.rke1Kubernetes[k8s];
  if (entry === undefined || !rke1ListedByKdm(entry)) return false;
  const info = tables.k8sVersionInfo[`v${minorOf(k8s) ?? ""}`];
  if (info === undefined) return false;
  return within(rancher, info.minRancherVersion, info.maxRancherVersion);
}
