import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { trimObject } from "./inventory.js";

describe("trimObject", () => {
  test("drops managedFields and a Node's image list, keeps what the scan reads", () => {
    const node = {
      metadata: {
        name: "n1",
        labels: { "node-role.kubernetes.io/worker": "true" },
        annotations: { "rke.cattle.io/external-ip": "10.0.0.1" },
        managedFields: [{ manager: "kubelet" }],
      },
      status: {
        nodeInfo: { kernelVersion: "5.4.0-182-generic", osImage: "Ubuntu 20.04.6 LTS" },
        images: [{ names: ["rancher/mirrored-calico-node:v3.28.0"], sizeBytes: 1 }],
        conditions: [{ type: "Ready", status: "True" }],
      },
    };
    const pod = {
      metadata: { name: "canal-x", managedFields: [{ manager: "kube-controller-manager" }] },
      spec: {
        nodeName: "n1",
        containers: [{ name: "calico-node", image: "rancher/mirrored-calico-node:v3.28.0" }],
      },
      status: { containerStatuses: [{ name: "calico-node", restartCount: 3 }] },
    };
    assert.deepEqual(trimObject(structuredClone(node)), {
      metadata: { name: "n1", labels: node.metadata.labels, annotations: node.metadata.annotations },
      status: { nodeInfo: node.status.nodeInfo, conditions: node.status.conditions },
    });
    assert.deepEqual(trimObject(structuredClone(pod)), {
      metadata: { name: "canal-x" },
      spec: pod.spec,
      status: pod.status,
    });
  });
});
