import { test } from "node:test";
import assert from "node:assert/strict";
import { isIPv4 } from "node:net";
import { nodeIp } from "./node-objects.js";
import { MAX_NODES } from "./cluster.js";

test("node addresses are valid, unique IPv4 host addresses up to the node limit", () => {
  const seen = new Set<string>();
  for (let i = 0; i < MAX_NODES; i++) {
    const ip = nodeIp(i);
    assert.ok(isIPv4(ip), `${ip} (node ${i})`);
    const last = Number(ip.split(".")[3]);
    assert.ok(last >= 10 && last <= 249, `${ip} (node ${i})`);
    assert.ok(!seen.has(ip), `duplicate ${ip}`);
    seen.add(ip);
  }
});
