// Which files under the log roots are this node's logs of the watched containers (calico-node, and
// every container a loaded advisory names, e.g. kube-flannel, in Canal's pod or in flannel's own
// kube-flannel-ds pod in kube-flannel or kube-system: the layout does not depend on the namespace):
//   <root>/<ns>_<pod>_<uid>/<container>/N.log            kubelet's CRI log of the container
//   <root>/<ns>_<pod>_<uid>/<container>/N.log.<stamp>    a rotation (renamed), maybe .gz
//   <root>/<pod>_<ns>_<container>-<64 hex>.log           /var/log/containers symlinks to the above
//   <root>/felix/current, @<tai64n>.[su], felix.log*     calico's own file logging (/var/log/calico)
// Everything else (other containers, CNI plugin logs) is left alone.

import { readdir } from "node:fs/promises";
import { basename, join } from "node:path";

const CRI_NAME = /^\d+\.log(?:\.\d{8}-\d{6}(?:\.gz)?)?$/;
/** The containers watched when none are named. */
export const DEFAULT_CONTAINERS: readonly string[] = ["calico-node"];
/** `<pod>_<ns>_<container>-<64 hex>.log`: the container name is what follows the second `_`. */
const CONTAINERS_LINK = /^[^_]+_[^_]+_(.+)-[0-9a-f]{64}\.log$/;
const FELIX_DIR_NAME = /^(?:current|@[0-9a-f]{24}\.[su]|[^/]+\.log(?:\.\d+)?(?:\.gz)?)$/;
const FELIX_FILE = /^felix\.log(?:\.\d+)?(?:\.gz)?$/;

/** The container a /var/log/containers symlink name is for, when it is one. */
function linkContainer(name: string): string | undefined {
  return CONTAINERS_LINK.exec(name)?.[1];
}

/** A /var/log/containers symlink name (the pods path of the same file is the better label). */
export function isContainersLink(path: string): boolean {
  return linkContainer(basename(path)) !== undefined;
}

export interface Candidate {
  path: string;
  /** Compressed by name (.gz); the reader also checks the gzip magic. */
  compressed: boolean;
}

async function entries(dir: string): Promise<{ name: string; dir: boolean }[]> {
  try {
    const list = await readdir(dir, { withFileTypes: true });
    return list.map((d) => ({ name: d.name, dir: d.isDirectory() }));
  } catch {
    // A root that does not exist (no Docker on a containerd node) or vanished mid-walk: nothing there.
    return [];
  }
}

function candidate(path: string): Candidate {
  return { path, compressed: path.endsWith(".gz") };
}

/** Log files in one watched container directory of the pods layout. */
export async function containerDirFiles(dir: string): Promise<Candidate[]> {
  return (await entries(dir))
    .filter((e) => !e.dir && CRI_NAME.test(e.name))
    .map((e) => candidate(join(dir, e.name)));
}

interface Walk {
  files: Candidate[];
  /** Watched container directories found, re-listed on every poll (rotations land there). */
  containerDirs: string[];
}

async function walkPodDir(podDir: string, out: Walk, containers: readonly string[]): Promise<void> {
  for (const e of await entries(podDir)) {
    if (!e.dir || !containers.includes(e.name)) continue;
    const dir = join(podDir, e.name);
    out.containerDirs.push(dir);
    out.files.push(...(await containerDirFiles(dir)));
  }
}

async function walkCalicoDir(dir: string, out: Walk, depth: number): Promise<void> {
  for (const e of await entries(dir)) {
    const path = join(dir, e.name);
    if (e.dir) {
      if (depth > 0 && e.name === "felix") await walkCalicoDir(path, out, depth - 1);
      continue;
    }
    if (basename(dir) === "felix" ? FELIX_DIR_NAME.test(e.name) : FELIX_FILE.test(e.name)) {
      out.files.push(candidate(path));
    }
  }
}

/**
 * Walks the roots for the logs of `containers`: the pods layout, the containers symlink directory
 * and calico's log directory.
 */
export async function discover(
  roots: readonly string[],
  containers: readonly string[] = DEFAULT_CONTAINERS,
): Promise<Walk> {
  const out: Walk = { files: [], containerDirs: [] };
  for (const root of roots) {
    for (const e of await entries(root)) {
      const path = join(root, e.name);
      const linked = e.dir ? undefined : linkContainer(e.name);
      if (e.dir && containers.includes(e.name)) {
        out.containerDirs.push(path);
        out.files.push(...(await containerDirFiles(path)));
      } else if (e.dir && e.name === "felix") {
        await walkCalicoDir(path, out, 0);
      } else if (e.dir && e.name.split("_").length === 3) {
        await walkPodDir(path, out, containers);
      } else if (
        !e.dir &&
        ((linked !== undefined && containers.includes(linked)) || FELIX_FILE.test(e.name))
      ) {
        // Symlinks report as non-directories here; stat later follows them to the pods file.
        out.files.push(candidate(path));
      }
    }
  }
  return out;
}
