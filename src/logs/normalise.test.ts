import { test } from "node:test";
import assert from "node:assert/strict";
import { looksShaped } from "./normalise.js";

// looksShaped() answers the storm's continuation lines without unwrapping them; these cases pin
// that the quick answers agree with what unwrapping says, on both sides of each shortcut.
const CASES: [string, boolean][] = [
  ["[1] PTR (anon) type_id=3", false],
  ["[1] PTR\x1b[0m (anon)", false],
  ["[\x1b[1mINFO\x1b[0m][60] felix/int_dataplane.go 1896: x", true],
  ["[INFO] not a felix header", false],
  ["\t'flags' type_id=11\x1b[0m", false],
  ["\ttype_id=11 bits_offset=0", false],
  ["\t\x1b[32m2024-08-09 08:00:00.123 [INFO][60] felix/x.go 12: y", true],
  ["  Aug  9 08:00:00 worker-1 kernel: x", true],
  ["  {not json}", false],
  ["   ", false],
  ["[14] STRUCT (anon) size=40 vlen=5", false],
  ["\t'flags' type_id=11 bits_offset=0", false],
  ["        /go/src/felix/dataplane/linux/int_dataplane.go:1896 +0x5c", false],
  ["  goroutine 1 [running]:", false],
  ["[pod/canal-abcde/calico-node] 2024-08-09 08:00:00.123 [INFO][60] felix/int_dataplane.go 1896: x", true],
  ["[pod/canal-abcde/calico-node] [1] PTR (anon) type_id=3", false],
  ["\x1b[32m[1] PTR\x1b[0m", false],
  ["\x1b[32m2024-08-09 08:00:00.123 [INFO][60] felix/x.go 12: y\x1b[0m", true],
  ["> 2024-08-09 08:00:00.123 [INFO][60] felix/x.go 12: y", true],
  ["   > 2024-08-09 08:00:00.123 [INFO][60] felix/x.go 12: y", true],
  ["    2024-08-09 08:00:00.123 [INFO][60] felix/x.go 12: y", true],
  ["\t[INFO][60] felix/int_dataplane.go 1896: Applying XDP actions did not succeed", true],
  ["  > [1] PTR (anon)", false],
  ["2024-08-09T08:00:00.123456789Z 2024-08-09 08:00:00.123 [INFO][60] felix/x.go 12: y", true],
  ['{"log":"2024-08-09 08:00:00.123 [INFO][60] felix/x.go 12: y\\n","kubernetes":{"pod_name":"p"}}', true],
];

test("looksShaped: quick answers agree with unwrapping", () => {
  for (const [line, expected] of CASES) {
    // Embedded in a block with other lines around it, as the scanner calls it.
    const block = `before\n${line}\nafter`;
    const start = "before\n".length;
    assert.equal(looksShaped(block, start, start + line.length), expected, JSON.stringify(line));
  }
});
