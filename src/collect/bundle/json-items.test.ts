import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { JsonItemsError, JsonItemsParser } from "./json-items.js";
import { readList } from "./read-list.js";

/** Feeds `text` in chunks of `size` bytes and returns the items. */
function parse(text: string, size: number): unknown[] {
  const items: unknown[] = [];
  const p = new JsonItemsParser((i) => items.push(i));
  const buf = Buffer.from(text, "utf8");
  for (let at = 0; at < buf.length; at += size) p.push(buf.subarray(at, at + size));
  p.end();
  return items;
}

const LIST = {
  kind: "PodList",
  apiVersion: "v1",
  metadata: { resourceVersion: "7", note: 'brackets in strings: "items": [ } ] , \\ ' },
  items: [
    {
      metadata: { name: "a", labels: { "x,y": "[{" } },
      spec: { containers: [{ name: "c", args: ["-v", "}"] }] },
    },
    { metadata: { name: "b\u00e9\u4e2d\u{1f600}" }, n: [1, 2, [3, {}]], s: 'quote " and \\\\' },
    "a string item",
    42,
    null,
    { metadata: { name: "last" } },
  ],
  trailing: { items: ["not", "these"] },
};

describe("chunked JSON items", () => {
  test("gives the items JSON.parse gives, at every chunk size", () => {
    const text = JSON.stringify(LIST, null, 2);
    for (const size of [1, 2, 3, 7, 64, 4096])
      assert.deepEqual(parse(text, size), LIST.items, `chunk size ${size}`);
  });
  test("an empty items array, and items before other keys", () => {
    assert.deepEqual(parse('{"items":[],"kind":"PodList"}', 3), []);
    assert.deepEqual(parse('{"items":[{"a":1}],"metadata":{"items":[9]}}', 5), [{ a: 1 }]);
  });
  test("truncated, unbalanced, no items, not an object, junk after", () => {
    const bad = [
      '{"items":[{"a":1},{"b":',
      '{"items":[1]]}',
      '{"kind":"PodList"}',
      "[1,2]",
      '{"items":[]} x',
    ];
    for (const text of bad) assert.throws(() => parse(text, 4), JsonItemsError, text);
  });
  test("readList reads a list above the chunked threshold item by item, same result", async () => {
    const dir = await mkdtemp(join(tmpdir(), "json-items-"));
    try {
      const path = join(dir, "pods.json");
      await writeFile(path, JSON.stringify(LIST));
      const whole = await readList(path);
      const chunked = await readList(path, 1);
      assert.deepEqual(chunked, whole);
      await writeFile(path, '{"items":[{"a":1},');
      const broken = await readList(path, 1);
      assert.equal(broken.ok, false);
      if (!broken.ok) assert.match(broken.problem, /malformed JSON at byte \d+: the document ends early/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
