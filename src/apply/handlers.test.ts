// The handler registry apply and rollback share: each executable step kind maps to its handler,
// the file kinds share one, cluster kinds need a connection, and a kind with no handler (say, from
// a backup written by another cnidoctor) is an error that names it.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { KubeClient } from "../kube/client.js";
import { FileHandler } from "./files.js";
import { handlersFor, needsCluster, NoHandlerError, type ClusterConnection } from "./handlers.js";
import { KubeObjectHandler } from "./kube-objects.js";
import { RestartHandler } from "./restart.js";

/** A connection to a cluster nobody answers at; building handlers makes no request. */
function connection(): ClusterConnection {
  return KubeClient.fromEndpoint(
    { server: "https://127.0.0.1:9", headers: {}, description: "test", context: "x" },
    { timeoutMs: 1000, qps: 10, burst: 10, maxSockets: 1 },
  );
}

const restart = { advisoryId: "CNID-2024-0001", holder: "test" };

describe("handler registry", () => {
  test("file kinds: one FileHandler for both, no cluster needed, manual steps need nothing", () => {
    const kinds = ["file-edit", "file-write", "manual", "file-edit"];
    assert.equal(needsCluster(kinds), false);
    for (const mode of ["apply", "rollback"] as const) {
      const hs = handlersFor(kinds, { mode });
      assert.equal(hs.length, 1);
      assert.ok(hs[0] instanceof FileHandler);
      assert.deepEqual([...(hs[0]?.kinds ?? [])], ["file-edit", "file-write"]);
    }
    assert.deepEqual(handlersFor(["manual"], { mode: "apply" }), []);
  });

  test("cluster kinds: their handlers, built from the context's connection", () => {
    for (const kind of ["kube-patch", "rolling-restart"])
      assert.equal(needsCluster(["file-write", kind]), true);
    const hs = handlersFor(["rolling-restart", "file-write", "kube-patch"], {
      mode: "apply",
      cluster: { connection: connection(), restart },
    });
    assert.equal(hs.length, 3);
    assert.ok(hs[0] instanceof RestartHandler);
    assert.ok(hs[1] instanceof FileHandler);
    assert.ok(hs[2] instanceof KubeObjectHandler);
    // Only what the steps need is built.
    const one = handlersFor(["kube-patch"], {
      mode: "rollback",
      cluster: { connection: connection(), restart },
    });
    assert.equal(one.length, 1);
    assert.ok(one[0] instanceof KubeObjectHandler);
  });

  test("a cluster kind without a connection is an error naming the kind", () => {
    for (const kind of ["kube-patch", "rolling-restart"])
      assert.throws(
        () => handlersFor(["file-edit", kind], { mode: "rollback" }),
        (e: unknown) => e instanceof NoHandlerError && e.message.includes(`'${kind}' needs the cluster`),
      );
  });

  test("a step kind with no handler is an error naming it and the kinds there are", () => {
    const check = (e: unknown): boolean =>
      e instanceof NoHandlerError &&
      e.message.includes("no handler for step kind 'helm-upgrade'") &&
      e.message.includes("file-edit, file-write, kube-patch, rolling-restart");
    assert.throws(() => needsCluster(["file-edit", "helm-upgrade"]), check);
    assert.throws(() => handlersFor(["helm-upgrade"], { mode: "apply" }), check);
    // Object's own keys are not step kinds.
    assert.throws(() => handlersFor(["toString"], { mode: "apply" }), NoHandlerError);
  });
});
