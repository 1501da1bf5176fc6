import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { PassThrough, Writable } from "node:stream";
import { pipeCoalesced, rewritePath } from "./kubelet-gateway.js";

describe("kubelet gateway", () => {
  test("log bodies are forwarded whole, in far fewer writes than pieces", async () => {
    const source = new PassThrough();
    const writes: Buffer[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done): void {
        writes.push(chunk);
        done();
      },
    });
    const finished = new Promise((resolve) => sink.on("finish", resolve));
    pipeCoalesced(source, sink, 4096);
    const lines = Array.from({ length: 1000 }, (_, i) => `line ${i} of a calico-node log\n`);
    for (const line of lines) source.write(line);
    source.end();
    await finished;
    assert.equal(Buffer.concat(writes).toString(), lines.join(""));
    assert.ok(writes.length < 20, `${writes.length} writes for 1000 pieces`);
    assert.ok(
      writes.every((w) => w.length <= 4096 + 64),
      "a write stays near the cap",
    );
  });

  test("log and metric paths are keyed by node", () => {
    assert.equal(
      rewritePath("/containerLogs/kube-system/canal-x7f2k/calico-node?sinceSeconds=3600", "n1"),
      "/containerLogs/kube-system/n1/calico-node?sinceSeconds=3600",
    );
    assert.equal(rewritePath("/metrics/resource", "n1"), "/metrics/nodes/n1/metrics/resource");
    assert.equal(rewritePath("/healthz", "n1"), "/healthz");
  });
});
