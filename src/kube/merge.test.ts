import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { UsageError } from "../errors.js";
import { globMatcher, kubeconfigFiles, mergeKubeconfigs, selectContexts, singleContextDoc } from "./merge.js";

let dir = "";
before(async () => {
  dir = await mkdtemp(join(tmpdir(), "cnid-merge-"));
  await mkdir(join(dir, "sub"));
  await writeFile(
    join(dir, "a.yaml"),
    [
      "clusters:",
      "- {name: c1, cluster: {server: 'https://a:6443', certificate-authority: ca.pem}}",
      "users:",
      "- {name: u1, user: {client-certificate: crt.pem, client-key: /abs/key.pem}}",
      "contexts:",
      "- {name: prod-a, context: {cluster: c1, user: u1}}",
      "- {name: dev, context: {cluster: c1, user: u1}}",
      "current-context: dev",
      "",
    ].join("\n"),
  );
  await writeFile(
    join(dir, "sub", "b.yaml"),
    [
      "clusters:",
      "- {name: c1, cluster: {server: 'https://loses:6443'}}",
      "- {name: c2, cluster: {server: 'https://b:6443'}}",
      "users:",
      "- {name: u2, user: {token-file: tok}}",
      "contexts:",
      "- {name: dev, context: {cluster: c2, user: u2}}",
      "- {name: prod-b, context: {cluster: c1, user: u2}}",
      "current-context: prod-b",
      "",
    ].join("\n"),
  );
});
after(() => rm(dir, { recursive: true, force: true }));

test("the files: --kubeconfig alone, else each $KUBECONFIG entry, else ~/.kube/config", () => {
  assert.deepEqual(kubeconfigFiles("/x", { KUBECONFIG: "/a:/b" }, "/h"), ["/x"]);
  assert.deepEqual(kubeconfigFiles(undefined, { KUBECONFIG: "/a::/b:" }, "/h"), ["/a", "/b"]);
  assert.deepEqual(kubeconfigFiles(undefined, {}, "/h"), ["/h/.kube/config"]);
});

test("merging: the first file wins per name; paths resolve against their own file; missing entries are skipped", () => {
  const m = mergeKubeconfigs(
    [join(dir, "a.yaml"), join(dir, "missing.yaml"), join(dir, "sub", "b.yaml")],
    false,
  );
  assert.deepEqual(m.files, [join(dir, "a.yaml"), join(dir, "sub", "b.yaml")]);
  assert.deepEqual([...m.contexts.keys()].sort(), ["dev", "prod-a", "prod-b"]);
  assert.equal(m.contexts.get("dev")?.body.cluster, "c1", "the first file's dev wins");
  assert.equal(m.clusters.get("c1")?.body.server, "https://a:6443");
  assert.equal(m.currentContext, "dev");
  assert.equal(m.clusters.get("c1")?.body["certificate-authority"], join(dir, "ca.pem"));
  assert.equal(m.users.get("u1")?.body["client-key"], "/abs/key.pem");
  assert.equal(m.users.get("u2")?.body["token-file"], join(dir, "sub", "tok"));
  // prod-b (from b.yaml) uses the winning c1 (from a.yaml), as kubectl does.
  const doc = singleContextDoc(m, "prod-b");
  assert.deepEqual(doc.clusters, [{ name: "c1", cluster: m.clusters.get("c1")?.body }]);
  assert.equal(doc["current-context"], "prod-b");
  assert.throws(() => mergeKubeconfigs([join(dir, "missing.yaml")], true), /kubeconfig not found/);
  assert.throws(() => mergeKubeconfigs([join(dir, "missing.yaml")], false), UsageError);
});

test("globs: * any run, ? one character, the rest literal, the whole name", () => {
  const m = globMatcher("prod-?.*");
  assert.equal(m("prod-a.eu"), true);
  assert.equal(m("prod-a."), true);
  assert.equal(m("prod-ab.eu"), false);
  assert.equal(m("xprod-a.eu"), false);
  assert.equal(globMatcher("a+b(c)")("a+b(c)"), true);
  assert.equal(globMatcher("a+b(c)")("aab(c)"), false);
  assert.equal(globMatcher("*")(""), true);
});

test("selection: sorted, duplicates once, unknown names and empty matches are bad usage", () => {
  const names = ["prod-b", "dev", "prod-a"];
  assert.deepEqual(selectContexts(names, { all: true }, "kc"), ["dev", "prod-a", "prod-b"]);
  assert.deepEqual(selectContexts(names, { names: ["prod-b", "dev", "prod-b"] }, "kc"), ["dev", "prod-b"]);
  assert.deepEqual(selectContexts(names, { pattern: "prod-*" }, "kc"), ["prod-a", "prod-b"]);
  assert.throws(
    () => selectContexts(names, { names: ["nope", "dev"] }, "kc"),
    /context 'nope' not in kc \(contexts: dev, prod-a, prod-b\)/,
  );
  assert.throws(() => selectContexts(names, { pattern: "x*" }, "kc"), UsageError);
  assert.throws(() => selectContexts([], { all: true }, "kc"), /kc has no contexts/);
});
