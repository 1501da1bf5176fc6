// Where the harness finds its binaries. Versions are pinned here and in ensure-tools.sh; the
// cache layout (~/.cache/cnidoctor/<tool>/<version>/bin) is shared with that script.
import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";

export const K8S_VERSION = "v1.37.2";
export const KWOK_VERSION = "v0.8.0";
export const ETCD_VERSION = "v3.6.16";

export interface Tools {
  kubeApiserver: string;
  kubeControllerManager: string;
  kubeScheduler: string;
  kwok: string;
  etcd: string;
  kubectl: string;
}

function cacheRoot(): string {
  return process.env["CNIDOCTOR_CACHE"] ?? join(homedir(), ".cache", "cnidoctor");
}

/** The newest real kubectl on the machine: /usr/bin/kubectl is a version dispatcher, not a binary. */
export function findKubectl(): string {
  const preferred = "/usr/lib/google-cloud-sdk/bin/kubectl.1.33";
  if (existsSync(preferred)) return preferred;
  return "kubectl";
}

export function locateTools(): Tools {
  const k8s = join(cacheRoot(), "k8s", K8S_VERSION, "bin");
  const kwokBin = join(cacheRoot(), "kwok", KWOK_VERSION, "bin");
  const etcd = join(cacheRoot(), "etcd", ETCD_VERSION, "bin", "etcd");
  return {
    kubeApiserver: join(k8s, "kube-apiserver"),
    kubeControllerManager: join(k8s, "kube-controller-manager"),
    kubeScheduler: join(k8s, "kube-scheduler"),
    kwok: join(kwokBin, "kwok"),
    etcd,
    kubectl: findKubectl(),
  };
}

/** Names of the binaries that are missing, so `up` can say "run ensure-tools.sh" instead of failing late. */
export function missingTools(tools: Tools): string[] {
  const paths = [
    tools.kubeApiserver,
    tools.kubeControllerManager,
    tools.kubeScheduler,
    tools.kwok,
    tools.etcd,
  ];
  return paths.filter((p) => !existsSync(p));
}
