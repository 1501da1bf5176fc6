import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readList } from "./read-list.js";

const dir = await mkdtemp(join(tmpdir(), "cnid-readlist-"));

test("a List, a single object, YAML, and the ways a file can be wrong", async () => {
  const list = join(dir, "felixconfigurations.json");
  await writeFile(
    list,
    JSON.stringify({ kind: "FelixConfigurationList", items: [{ metadata: { name: "default" } }] }),
  );
  assert.deepEqual(await readList(list), {
    ok: true,
    items: [{ metadata: { name: "default" } }],
    path: list,
  });

  const single = join(dir, "single.json");
  const obj = {
    apiVersion: "crd.projectcalico.org/v1",
    kind: "FelixConfiguration",
    metadata: { name: "default" },
    spec: { xdpEnabled: false },
  };
  await writeFile(single, JSON.stringify(obj));
  assert.deepEqual(await readList(single), { ok: true, items: [obj], path: single });

  const yaml = join(dir, "pods.yaml");
  await writeFile(yaml, "kind: PodList\nitems:\n  - metadata: {name: a}\n");
  assert.deepEqual(await readList(yaml), { ok: true, items: [{ metadata: { name: "a" } }], path: yaml });

  const broken = join(dir, "broken.json");
  await writeFile(broken, '{"kind": "PodList",\n "items": [ {');
  const b = await readList(broken);
  assert.equal(b.ok, false);
  assert.match(b.ok ? "" : b.problem, /^malformed JSON at line 2: /);

  const missing = await readList(join(dir, "nope.json"));
  assert.deepEqual(missing, {
    ok: false,
    missing: true,
    path: join(dir, "nope.json"),
    problem: "not in the bundle",
  });

  const notList = join(dir, "notlist.json");
  await writeFile(notList, JSON.stringify({ kind: "PodList" }));
  const n = await readList(notList);
  assert.equal(n.ok, false);
  assert.equal(n.ok ? "" : n.problem, "not a Kubernetes List (no items array)");
});
