import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { PassThrough, Writable } from "node:stream";
import { pipeCoalesced, rewriteHead, rewritePath } from "./kubelet-gateway.js";

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
    pipeCoalesced(source, sink, { maxBytes: 4096 });
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

  test("a request head is keyed by node and closes its tunnel, unless it upgrades", () => {
    const head = [
      "GET /containerLogs/kube-system/canal-x7f2k/calico-node?limitBytes=9 HTTP/1.1",
      "Host: 10.10.0.7:10250",
      "Connection: keep-alive",
      "Keep-Alive: timeout=5",
      "Accept-Encoding: gzip",
    ].join("\r\n");
    assert.equal(
      rewriteHead(head, "n7"),
      [
        "GET /containerLogs/kube-system/n7/calico-node?limitBytes=9 HTTP/1.1",
        "Host: 10.10.0.7:10250",
        "Accept-Encoding: gzip",
        "Connection: close",
        "",
        "",
      ].join("\r\n"),
    );
    const upgrade = ["POST /exec/ns/p/c?command=sh HTTP/1.1", "Connection: Upgrade", "Upgrade: SPDY/3.1"];
    assert.equal(rewriteHead(upgrade.join("\r\n"), "n7"), `${upgrade.join("\r\n")}\r\n\r\n`);
  });
});
