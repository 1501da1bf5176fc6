import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { parseFelixBool, resolveFelixSetting } from "./felix-settings.js";
import type { ContainerFacts, FelixConfigurationFacts } from "../model/snapshot.js";

function container(env: Record<string, string | undefined>): ContainerFacts {
  const facts: ContainerFacts["env"] = {};
  for (const [k, v] of Object.entries(env))
    facts[k] = { value: v, from: { source: "daemonset", ref: "kube-system/canal" } };
  return {
    name: "calico-node",
    image: { value: { raw: "x", repository: "x" }, from: { source: "daemonset", ref: "x" } },
    env: facts,
  };
}
function config(name: string, spec: Record<string, unknown>): FelixConfigurationFacts {
  return { name, spec, from: { source: "felix-configuration", ref: `felixconfigurations.json ${name}` } };
}
const resolve = (c: ContainerFacts | undefined, configs: FelixConfigurationFacts[] | undefined) =>
  resolveFelixSetting({ field: "xdpEnabled", felixDefault: true, node: "n1", container: c, configs });

describe("Felix setting precedence: env > node.<name> > default > Felix default", () => {
  test("env wins over both FelixConfigurations", () => {
    const r = resolve(container({ FELIX_XDPENABLED: "false" }), [
      config("default", { xdpEnabled: true }),
      config("node.n1", { xdpEnabled: true }),
    ]);
    assert.equal(r.value, false);
    assert.match(r.source, /env FELIX_XDPENABLED=false/);
  });
  test("env decides even when FelixConfiguration could not be read", () => {
    const r = resolve(container({ FELIX_XDPENABLED: "False" }), undefined);
    assert.equal(r.value, false);
    assert.equal(r.assumed, false);
  });
  test("node.<name> beats default", () => {
    const r = resolve(container({}), [
      config("default", { xdpEnabled: true }),
      config("node.n1", { xdpEnabled: false }),
    ]);
    assert.equal(r.value, false);
    assert.match(r.source, /node\.n1/);
  });
  test("another node's override does not apply", () => {
    const r = resolve(container({}), [
      config("default", { xdpEnabled: false }),
      config("node.n2", { xdpEnabled: true }),
    ]);
    assert.equal(r.value, false);
  });
  test("default FelixConfiguration when nothing more specific", () => {
    assert.equal(resolve(container({}), [config("default", { xdpEnabled: true })]).value, true);
  });
  test("Felix's own default when the objects were read and say nothing", () => {
    const r = resolve(container({}), [config("default", { logSeverityScreen: "Info" })]);
    assert.equal(r.value, true);
    assert.equal(r.assumed, false);
  });
  test("Felix's default is marked assumed when FelixConfiguration was not read", () => {
    const r = resolve(container({}), undefined);
    assert.equal(r.value, true);
    assert.equal(r.assumed, true);
  });
  test("an env var from a ConfigMap or Secret reference cannot be resolved offline", () => {
    const r = resolve(container({ FELIX_XDPENABLED: undefined }), [config("default", { xdpEnabled: false })]);
    assert.equal(r.value, undefined);
  });
  test("boolean spellings", () => {
    assert.equal(parseFelixBool("TRUE"), true);
    assert.equal(parseFelixBool("0"), false);
    assert.equal(parseFelixBool("maybe"), undefined);
  });
});
