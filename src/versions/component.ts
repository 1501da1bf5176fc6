// The version a component container runs, read from its image tag, for the ecosystem an advisory
// judges it in (`component.ecosystem`): Calico releases from Calico component images, flannel
// releases from flannel images. Also the words the diagnosis uses for each ecosystem.

import type { ComponentEcosystem } from "../model/advisory.js";
import type { CalicoVersion, ImageRef } from "../model/index.js";
import { parseCalicoVersion } from "./calico.js";
import { calicoVersionFromImage } from "./image.js";

/** How the diagnosis names an ecosystem's releases and the program whose log lines it fingerprints. */
export interface EcosystemWords {
  /** "Calico", "flannel": the release name in "Calico v3.28.0". */
  product: string;
  /** "Felix", "flanneld": the program that writes the fingerprinted log lines. */
  logger: string;
}

const WORDS: Readonly<Record<ComponentEcosystem, EcosystemWords>> = {
  calico: { product: "Calico", logger: "Felix" },
  flannel: { product: "flannel", logger: "flanneld" },
};

export function ecosystemWords(ecosystem: ComponentEcosystem): EcosystemWords {
  return WORDS[ecosystem];
}

/**
 * True for images whose tag is a flannel release: `flannel/flannel`, `flannelcni/flannel`,
 * `coreos/flannel` (any registry), `rancher/hardened-flannel` (RKE2), `rancher/mirrored-flannel-flannel`
 * and `rancher/mirrored-flannelcni-flannel` (Rancher mirrors), `rancher/coreos-flannel`. The CNI
 * plugin images (`flannel-cni-plugin`, `mirrored-flannelcni-flannel-cni-plugin`) carry their own
 * version and are not.
 */
export function isFlannelImage(image: ImageRef): boolean {
  const last = image.repository.split("/").at(-1) ?? "";
  if (last === "flannel" || last === "hardened-flannel" || last === "coreos-flannel") return true;
  return last.startsWith("mirrored-") && last.endsWith("-flannel");
}

/**
 * The flannel release an image carries: `flannel/flannel:v0.24.3`, `docker.io/flannel/flannel:v0.24.3`,
 * `rancher/hardened-flannel:v0.24.3-build20240307` (build "build20240307"). Undefined for other
 * images, digest-only references and tags that are not versions.
 */
export function flannelVersionFromImage(image: ImageRef): CalicoVersion | undefined {
  if (image.tag === undefined || !isFlannelImage(image)) return undefined;
  return parseCalicoVersion(image.tag);
}

/** The release of `ecosystem` an image carries in its tag, when it is that ecosystem's image. */
export function componentVersionFromImage(
  ecosystem: ComponentEcosystem,
  image: ImageRef,
): CalicoVersion | undefined {
  return ecosystem === "flannel" ? flannelVersionFromImage(image) : calicoVersionFromImage(image);
}

/** An advisory's component ecosystem (calico when it names none). */
export function componentEcosystem(component: { ecosystem?: ComponentEcosystem }): ComponentEcosystem {
  return component.ecosystem ?? "calico";
}
