/** A parsed container image reference. */
export interface ImageRef {
  /** The reference exactly as it appeared. */
  raw: string;
  /** Registry host (and port) when given, e.g. "docker.io", "registry.local:5000". */
  registry?: string;
  /** Repository path without registry, e.g. "rancher/mirrored-calico-node". */
  repository: string;
  tag?: string;
  digest?: string;
}

/** A Calico release as x.y.z plus where it was derived from. */
export interface CalicoVersion {
  major: number;
  minor: number;
  patch: number;
  /** Canonical "v3.28.0". */
  text: string;
  /** Distribution build suffix, e.g. "build20240625", "rancher1". */
  build?: string;
}
