import { test } from "node:test";
import assert from "node:assert/strict";
import type { NodeFacts } from "../model/snapshot.js";
import { rancherProvisioning, rancherVersionFromAgent } from "./rancher-cluster.js";

function node(
  name: string,
  labels: Record<string, string> = {},
  annotations: Record<string, string> = {},
): NodeFacts {
  return {
    name,
    labels,
    annotations,
    distribution: { value: "rke2", from: { source: "node", ref: "test" } },
  };
}

function agent(env: { name: string; value: string }[], image = "rancher/rancher-agent:v2.9.1") {
  return { spec: { template: { spec: { containers: [{ name: "cluster-register", image, env }] } } } };
}

test("the Rancher version comes from CATTLE_SERVER_VERSION, else the rancher-agent image tag", () => {
  assert.equal(
    rancherVersionFromAgent(agent([{ name: "CATTLE_SERVER_VERSION", value: "v2.10.1" }]), "d")?.value,
    "v2.10.1",
  );
  const fromTag = rancherVersionFromAgent(agent([]), "dep");
  assert.equal(fromTag?.value, "v2.9.1");
  assert.match(fromTag?.from.ref ?? "", /image rancher\/rancher-agent:v2\.9\.1/);
  assert.equal(
    rancherVersionFromAgent(agent([], "registry.local:5000/rancher/rancher-agent:v2.8.5"), "d")?.value,
    "v2.8.5",
  );
  assert.equal(rancherVersionFromAgent(agent([], "rancher/rancher-agent:head"), "d"), undefined);
  assert.equal(rancherVersionFromAgent({ spec: {} }, "d"), undefined);
});

test("provisioned: a node with rke.cattle.io/machine or a cluster.x-k8s.io annotation, named as evidence", () => {
  const p = rancherProvisioning([node("a"), node("b", { "rke.cattle.io/machine": "uid" })], "rke2", true);
  assert.equal(p.value, "provisioned");
  assert.match(p.from.ref, /node b carries label rke\.cattle\.io\/machine/);
  const c = rancherProvisioning([node("a", {}, { "cluster.x-k8s.io/machine": "m-1" })], "rke2", true);
  assert.equal(c.value, "provisioned");
  assert.match(c.from.ref, /annotation cluster\.x-k8s\.io\/machine/);
});

test("imported: every node read, RKE2, none carries the markers; unknown when it cannot be told", () => {
  const i = rancherProvisioning([node("a", { "cattle.io/os": "linux" }), node("b")], "rke2", true);
  assert.equal(i.value, "imported");
  assert.match(i.from.ref, /none of 2 nodes carries rke\.cattle\.io\/machine/);
  assert.equal(rancherProvisioning([], "rke2", false).value, "unknown");
  assert.equal(rancherProvisioning([node("a")], "rke1", true).value, "unknown");
});
