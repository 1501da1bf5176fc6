// Container image references, parsed the way Docker's reference grammar reads them, and the
// Calico release a Calico component image carries in its tag.

import type { CalicoVersion, ImageRef } from "../model/index.js";
import { parseCalicoVersion } from "./calico.js";

// One path component of a repository: lowercase alphanumerics joined by ".", "_", "__" or dashes.
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
// A registry host (DNS labels or an IPv4 address), optionally with a port, or a bracketed IPv6 literal.
const REGISTRY_HOST =
  /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?$/;
const TAG = /^\w[\w.-]{0,127}$/;
const DIGEST = /^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[A-Za-z0-9=_-]{32,}$/;
const SHA256_HEX = /^[a-f0-9]{64}$/;
const MAX_NAME_LENGTH = 255;

/** Names under which Docker Hub is addressed; references to them get "library/" removed. */
const DOCKER_HUB_HOSTS = new Set(["docker.io", "index.docker.io", "registry-1.docker.io"]);

function isRegistryComponent(first: string): boolean {
  return first.includes(".") || first.includes(":") || first === "localhost";
}

function validDigest(digest: string): boolean {
  if (!DIGEST.test(digest)) return false;
  const [algorithm, hex] = digest.split(":", 2);
  return algorithm !== "sha256" || SHA256_HEX.test(hex ?? "");
}

/** Splits "name[:tag][@digest]" into its parts; undefined when a part is malformed. */
function splitTagAndDigest(ref: string): { name: string; tag?: string; digest?: string } | undefined {
  let rest = ref;
  let digest: string | undefined;
  const at = rest.indexOf("@");
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!validDigest(digest)) return undefined;
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(":");
  // A colon before the last slash belongs to a registry port, not a tag.
  if (colon > rest.lastIndexOf("/")) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) return undefined;
  }
  return { name: rest, ...(tag === undefined ? {} : { tag }), ...(digest === undefined ? {} : { digest }) };
}

/**
 * Parses an image reference such as `registry.local:5000/rancher/mirrored-calico-node:v3.28.0`,
 * `quay.io/calico/node:v3.27.3` or `calico/node@sha256:…`.
 *
 * The registry is the first path component when it contains "." or ":" or is "localhost" (Docker's
 * rule); otherwise it is left undefined. Docker Hub's implicit `library/` namespace is removed for
 * Docker Hub references so that `nginx`, `library/nginx` and `docker.io/library/nginx` all give
 * repository `nginx`; `index.docker.io` is reported as `docker.io`. A missing tag stays undefined
 * (never "latest"). Surrounding whitespace is ignored; anything else that breaks the grammar
 * (uppercase repository, inner whitespace, empty components) gives undefined.
 */
export function parseImageRef(raw: string): ImageRef | undefined {
  const text = raw.trim();
  if (text === "" || /\s/.test(text)) return undefined;
  const parts = splitTagAndDigest(text);
  if (parts === undefined || parts.name === "" || parts.name.length > MAX_NAME_LENGTH) return undefined;

  const components = parts.name.split("/");
  let registry: string | undefined;
  const first = components[0];
  if (components.length > 1 && first !== undefined && isRegistryComponent(first)) {
    if (!REGISTRY_HOST.test(first)) return undefined;
    registry = first;
    components.shift();
  }
  if (components.length === 0 || !components.every((c) => PATH_COMPONENT.test(c))) return undefined;

  const dockerHub = registry === undefined || DOCKER_HUB_HOSTS.has(registry.toLowerCase());
  if (registry !== undefined && dockerHub) registry = "docker.io";
  if (dockerHub && components.length === 2 && components[0] === "library") components.shift();

  return {
    raw,
    ...(registry === undefined ? {} : { registry }),
    repository: components.join("/"),
    ...(parts.tag === undefined ? {} : { tag: parts.tag }),
    ...(parts.digest === undefined ? {} : { digest: parts.digest }),
  };
}

/** Calico components whose image tag is the Calico release (operator and tooling images are not). */
const CALICO_COMPONENTS = new Set([
  "node",
  "cni",
  "kube-controllers",
  "ctl",
  "calicoctl",
  "pod2daemon-flexvol",
  "typha",
  "apiserver",
  "csi",
  "node-driver-registrar",
  "dikastes",
  "flannel-migration-controller",
  "key-cert-provisioner",
  "goldmane",
  "whisker",
  "whisker-backend",
]);

type CalicoImageKind = { component: string } | undefined;

/**
 * Which Calico component an image repository is, judged by its last one or two path components
 * so that mirrors under any registry or prefix are recognised:
 * `calico/<component>`, `rancher/mirrored-calico-<component>`, `rancher/calico-<component>`
 * (Rancher's own builds, e.g. calico-cni) and `rancher/hardened-calico` (RKE2 canal: node, cni,
 * flexvol and kube-controllers in one image, reported as "node").
 */
function calicoComponentOf(repository: string): CalicoImageKind {
  const components = repository.split("/");
  const last = components[components.length - 1] ?? "";
  const parent = components.length > 1 ? components[components.length - 2] : undefined;
  if (parent === "calico" && CALICO_COMPONENTS.has(last)) return { component: last };
  if (last === "hardened-calico") return { component: "node" };
  for (const prefix of ["mirrored-calico-", "calico-"]) {
    if (last.startsWith(prefix)) {
      const component = last.slice(prefix.length);
      if (CALICO_COMPONENTS.has(component)) return { component };
    }
  }
  return undefined;
}

/**
 * The Calico release an image carries, from its tag: `rancher/mirrored-calico-node:v3.28.0`,
 * `rancher/hardened-calico:v3.28.0-build20240625` (build "build20240625"),
 * `rancher/calico-cni:v3.28.0-rancher1` (build "rancher1"). Undefined for images that are not
 * Calico components (including `tigera/operator` and `rancher/mirrored-calico-operator`, whose
 * tag is the operator's own version), for digest-only references and for tags that are not
 * versions (`latest`, `master`).
 */
export function calicoVersionFromImage(image: ImageRef): CalicoVersion | undefined {
  if (image.tag === undefined) return undefined;
  if (calicoComponentOf(image.repository) === undefined) return undefined;
  return parseCalicoVersion(image.tag);
}

/** True for images that run calico-node (Felix): calico/node, mirrored-calico-node, hardened-calico. */
export function isCalicoNodeImage(image: ImageRef): boolean {
  return calicoComponentOf(image.repository)?.component === "node";
}
