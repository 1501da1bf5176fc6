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
  test("boolean spellings are Felix's: case-insensitive, untrimmed, no on/off", () => {
    for (const t of ["true", "TRUE", "True", "1", "yes", "YES", "y", "Y", "t", "T"])
      assert.equal(parseFelixBool(t), true, t);
    for (const f of ["false", "FALSE", "0", "no", "No", "n", "N", "f", "F"])
      assert.equal(parseFelixBool(f), false, f);
    for (const bad of [
      "on",
      "off",
      "OFF",
      "enabled",
      "disabled",
      " true",
      "false ",
      "",
      "2",
      "maybe",
      "nope",
    ])
      assert.equal(parseFelixBool(bad), undefined, JSON.stringify(bad));
  });
  test("FELIX_XDPENABLED=off is invalid to Felix, which falls back to its default: XDP stays on", () => {
    const r = resolve(container({ FELIX_XDPENABLED: "off" }), [config("default", { xdpEnabled: false })]);
    assert.equal(r.value, true);
    assert.equal(r.invalid, true);
    assert.match(r.source, /"off" is not a boolean Felix accepts.*default true/);
  });
  test("a padded value is invalid too (Felix does not trim)", () => {
    const r = resolve(container({ FELIX_XDPENABLED: "false " }), undefined);
    assert.equal(r.value, true);
    assert.equal(r.invalid, true);
    assert.equal(r.assumed, false);
  });
  test("a string in a FelixConfiguration is parsed like Felix parses it, and flagged when invalid", () => {
    assert.equal(resolve(container({}), [config("default", { xdpEnabled: "No" })]).value, false);
    const r = resolve(container({}), [config("default", { xdpEnabled: "disabled" })]);
    assert.equal(r.value, true);
    assert.equal(r.invalid, true);
    assert.match(r.source, /not a boolean Felix accepts/);
  });
});
