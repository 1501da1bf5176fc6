// Which RKE1 system image carries an advisory component's release, per network plugin: an advisory
// judged by its component's release (component.ecosystem) reads that image's tag from the RKE1
// version tables. A plugin without an entry deploys no image of that ecosystem (or the tables do
// not carry it: RKE1 flannel images are not in them).

import type { ComponentEcosystem } from "../model/advisory.js";
import type { CniPlugin } from "../model/snapshot.js";
import type { Rke1ImageKey } from "./tables.js";

export const RKE1_COMPONENT_IMAGE_KEYS: Readonly<
  Record<ComponentEcosystem, Readonly<Partial<Record<CniPlugin, Rke1ImageKey>>>>
> = {
  calico: { calico: "calico_node", canal: "canal_node" },
  flannel: { canal: "canal_flannel" },
};

export function rke1ComponentImageKey(
  ecosystem: ComponentEcosystem,
  plugin: CniPlugin,
): Rke1ImageKey | undefined {
  return RKE1_COMPONENT_IMAGE_KEYS[ecosystem][plugin];
}
