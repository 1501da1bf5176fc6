import { test } from "node:test";
import assert from "node:assert/strict";
import { componentVersionFromImage, flannelVersionFromImage, parseImageRef } from "./index.js";

const ref = (raw: string) => {
  const r = parseImageRef(raw);
  assert.ok(r, raw);
  return r;
};

test("flannel releases from every way its image is named", () => {
  const cases: [string, string | undefined, string | undefined][] = [
    ["flannel/flannel:v0.24.3", "v0.24.3", undefined],
    ["docker.io/flannel/flannel:v0.24.3", "v0.24.3", undefined],
    ["rancher/hardened-flannel:v0.24.3-build20240307", "v0.24.3", "build20240307"],
    ["registry.local:5000/rancher/hardened-flannel:v0.24.4-build20240321", "v0.24.4", "build20240321"],
    ["rancher/mirrored-flannelcni-flannel:v0.19.2", "v0.19.2", undefined],
    ["rancher/mirrored-flannel-flannel:v0.25.1", "v0.25.1", undefined],
    ["quay.io/coreos/flannel:v0.15.1", "v0.15.1", undefined],
    ["rancher/coreos-flannel:v0.13.0-rancher1", "v0.13.0", "rancher1"],
    // The CNI plugin has its own version; a digest or "latest" carries none.
    ["flannel/flannel-cni-plugin:v1.4.0-flannel1", undefined, undefined],
    ["rancher/mirrored-flannelcni-flannel-cni-plugin:v1.2.0", undefined, undefined],
    ["flannel/flannel:latest", undefined, undefined],
    ["rancher/hardened-calico:v3.27.2-build20240308", undefined, undefined],
  ];
  for (const [raw, text, build] of cases) {
    const v = flannelVersionFromImage(ref(raw));
    assert.equal(v?.text, text, raw);
    assert.equal(v?.build, build, raw);
  }
});

test("the ecosystem picks the parser: a Calico image has no flannel release and the reverse", () => {
  const calico = ref("rancher/hardened-calico:v3.27.2-build20240308");
  const flannel = ref("rancher/hardened-flannel:v0.24.3-build20240307");
  assert.equal(componentVersionFromImage("calico", calico)?.text, "v3.27.2");
  assert.equal(componentVersionFromImage("flannel", calico), undefined);
  assert.equal(componentVersionFromImage("flannel", flannel)?.text, "v0.24.3");
  assert.equal(componentVersionFromImage("calico", flannel), undefined);
});
