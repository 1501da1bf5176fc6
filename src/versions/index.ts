// Image and version intelligence: image references, Calico releases, kubelet versions, node
// distributions, Calico install detection and the generated version tables.

export { parseImageRef, calicoVersionFromImage, isCalicoNodeImage } from "./image.js";
export {
  componentEcosystem,
  componentVersionFromImage,
  ecosystemWords,
  flannelVersionFromImage,
  isFlannelImage,
} from "./component.js";
export type { EcosystemWords } from "./component.js";
export { parseCalicoVersion, compareCalicoVersions, calicoVersionFromRke2Chart } from "./calico.js";
export { parseKubeletVersion, detectNodeDistribution } from "./node.js";
export type { KubeletVersion, NodeMetadata } from "./node.js";
export {
  CALICO_CONTAINER,
  detectPlugin,
  FLANNEL_CONTAINER,
  installContainer,
  pluginRuns,
  samePluginFamily,
} from "./plugin.js";
export type { DaemonSetMetadata, ManagedBy, PluginDetection } from "./plugin.js";
export { compareVersionNames, minorOf } from "./order.js";
export {
  RKE1_IMAGE_KEYS,
  VERSION_TABLE_FILES,
  DEFAULT_DATA_DIR,
  loadVersionTables,
  defaultVersionTables,
  rke1FixedVersionFor,
  rke2FixedReleaseFor,
  rke1ImagesFor,
} from "./tables.js";
export type {
  IncidentStatus,
  Rke1ImageKey,
  Rke1K8sVersionEntry,
  Rke2ChartName,
  Rke2ChartEntry,
  Rke2ReleaseEntry,
  K8sWithCalico,
  RkeCliReleaseEntry,
  K8sMinorInfo,
  VersionTables,
  Rke1FixedTarget,
  Rke2FixedTarget,
} from "./tables.js";
