import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { loadAdvisories, SHIPPED_ADVISORIES_DIR } from "../advisories/load.js";
import { watchedContainers } from "./agent.js";
import { discover } from "./discover.js";

const HEX = "0123456789abcdef".repeat(4);

/**
 * A node running flannel on its own (kube-flannel.yml): the pod of kube-flannel/kube-flannel-ds
 * with its kube-flannel container (a current and a rotated log) and its install-cni init container,
 * under the pods root, and the /var/log/containers symlink kubelet adds for it.
 */
function flannelNode(): { pods: string; links: string; cleanup: () => void } {
  const base = mkdtempSync(join(tmpdir(), "cnid-discover-"));
  const pods = join(base, "pods");
  const links = join(base, "containers");
  const pod = join(pods, "kube-flannel_kube-flannel-ds-x7k2p_5f0c2d1e-0000-4000-8000-000000000001");
  mkdirSync(join(pod, "kube-flannel"), { recursive: true });
  mkdirSync(join(pod, "install-cni"), { recursive: true });
  mkdirSync(links, { recursive: true });
  writeFileSync(join(pod, "kube-flannel", "0.log"), "");
  writeFileSync(join(pod, "kube-flannel", "0.log.20240318-093000.gz"), "");
  writeFileSync(join(pod, "install-cni", "0.log"), "");
  symlinkSync(
    join(pod, "kube-flannel", "0.log"),
    join(links, `kube-flannel-ds-x7k2p_kube-flannel_kube-flannel-${HEX}.log`),
  );
  symlinkSync(
    join(pod, "install-cni", "0.log"),
    join(links, `kube-flannel-ds-x7k2p_kube-flannel_install-cni-${HEX}.log`),
  );
  return { pods, links, cleanup: () => rmSync(base, { recursive: true, force: true }) };
}

describe("discover on a node that runs flannel alone", () => {
  test("the shipped advisories' containers find kube-flannel-ds's kube-flannel logs, not its init container", async () => {
    const node = flannelNode();
    try {
      const containers = watchedContainers(await loadAdvisories(SHIPPED_ADVISORIES_DIR));
      assert.ok(containers.includes("kube-flannel"));
      const found = await discover([node.pods, node.links], containers);
      const rel = (p: string): string => relative(join(node.pods, ".."), p);
      assert.deepEqual(found.files.map((f) => rel(f.path)).sort(), [
        `containers/kube-flannel-ds-x7k2p_kube-flannel_kube-flannel-${HEX}.log`,
        "pods/kube-flannel_kube-flannel-ds-x7k2p_5f0c2d1e-0000-4000-8000-000000000001/kube-flannel/0.log",
        "pods/kube-flannel_kube-flannel-ds-x7k2p_5f0c2d1e-0000-4000-8000-000000000001/kube-flannel/0.log.20240318-093000.gz",
      ]);
      assert.deepEqual(
        found.files.map((f) => f.compressed),
        found.files.map((f) => f.path.endsWith(".gz")),
      );
      assert.deepEqual(
        found.containerDirs.map(rel),
        ["pods/kube-flannel_kube-flannel-ds-x7k2p_5f0c2d1e-0000-4000-8000-000000000001/kube-flannel"],
        "the container directory is re-listed for rotations",
      );
    } finally {
      node.cleanup();
    }
  });

  test("watching calico-node alone finds nothing there", async () => {
    const node = flannelNode();
    try {
      const found = await discover([node.pods, node.links]);
      assert.deepEqual(found.files, []);
      assert.deepEqual(found.containerDirs, []);
    } finally {
      node.cleanup();
    }
  });
});
