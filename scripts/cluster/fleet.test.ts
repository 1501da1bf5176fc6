import { test } from "node:test";
import assert from "node:assert/strict";
import { parse as parseYaml } from "yaml";
import { UsageError } from "./cluster.js";
import { mergedKubeconfig, parseFleetSpec, REFUSED_CONTEXT } from "./fleet.js";

test("parseFleetSpec reads name:scenario:nodes lists and names the bad part", () => {
  assert.deepEqual(parseFleetSpec("a:rke1-canal-affected:20, b:healthy:3"), [
    { name: "a", scenario: "rke1-canal-affected", nodes: 20 },
    { name: "b", scenario: "healthy", nodes: 3 },
  ]);
  assert.throws(() => parseFleetSpec("a:healthy"), /"a:healthy" is not name:scenario:nodes/);
  assert.throws(() => parseFleetSpec("a:healthy:x"), /nodes must be an integer/);
  assert.throws(() => parseFleetSpec("a:nope:3"), /unknown scenario "nope"/);
  assert.throws(() => parseFleetSpec("a:healthy:3,a:healthy:4"), /"a" appears twice/);
  assert.throws(() => parseFleetSpec(`${REFUSED_CONTEXT}:healthy:3`), /refused context/);
  assert.throws(() => parseFleetSpec(" , "), UsageError);
});

test("mergedKubeconfig: a triple per member, and a refused context on a member's server", () => {
  const member = (port: number) => ({
    clusters: [
      {
        name: "cnidoctor",
        cluster: { server: `https://127.0.0.1:${port}`, "certificate-authority-data": "Q0E=" },
      },
    ],
    users: [
      { name: "cnidoctor-admin", user: { "client-certificate-data": "Yw==", "client-key-data": "aw==" } },
    ],
  });
  const doc = parseYaml(
    mergedKubeconfig(
      [
        { name: "east", kubeconfig: member(1001) },
        { name: "west", kubeconfig: member(1002) },
      ],
      "west",
    ),
  ) as {
    clusters: { name: string; cluster: { server: string } }[];
    users: { name: string; user: Record<string, string> }[];
    contexts: { name: string; context: { cluster: string; user: string } }[];
    "current-context": string;
  };
  assert.deepEqual(
    doc.contexts.map((c) => [c.name, c.context.cluster, c.context.user]),
    [
      ["east", "east", "east"],
      ["west", "west", "west"],
      [REFUSED_CONTEXT, "west", REFUSED_CONTEXT],
    ],
  );
  assert.deepEqual(
    doc.clusters.map((c) => c.cluster.server),
    ["https://127.0.0.1:1001", "https://127.0.0.1:1002"],
  );
  const refused = doc.users.find((u) => u.name === REFUSED_CONTEXT)?.user;
  assert.ok(refused?.token?.startsWith("kubeconfig-user-"), "a Rancher-style bearer token");
  assert.equal(refused?.["client-certificate-data"], undefined, "no working credential rides along");
  assert.equal(doc["current-context"], "east");
  assert.throws(() => mergedKubeconfig([{ name: "east", kubeconfig: member(1) }], "north"), /no member/);
});
