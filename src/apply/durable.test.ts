// Durable writes: canonical paths (relative, symlinked, dangling), owner and mode kept, a symlink
// kept while its target is edited, and the pinned replace that puts back a file edited in place
// between the last comparison and the rename.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  appendFileSync,
  chmodSync,
  lstatSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { createRequire, syncBuiltinESMExports } from "node:module";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { canonicalPath, identify, ReplacedChanged, sha256, writeDurably } from "./durable.js";

const fresh = (): string => realpathSync(mkdtempSync(join(tmpdir(), "cnidoctor-durable-")));

describe("durable writes", () => {
  test("canonical paths: relative, through a symlink, through a dangling symlink, not yet existing", async () => {
    const dir = fresh();
    writeFileSync(join(dir, "real.yml"), "a: 1\n");
    symlinkSync(join(dir, "real.yml"), join(dir, "link.yml"));
    symlinkSync(join(dir, "later.yml"), join(dir, "dangling.yml"));
    assert.equal(await canonicalPath(relative(process.cwd(), join(dir, "real.yml"))), join(dir, "real.yml"));
    assert.equal(await canonicalPath(join(dir, "link.yml")), join(dir, "real.yml"));
    assert.equal(await canonicalPath(join(dir, "dangling.yml")), join(dir, "later.yml"));
    assert.equal(await canonicalPath(join(dir, "new.yml")), join(dir, "new.yml"));
  });

  test("a symlinked file: the target is replaced, the link stays, mode kept, no temporary left", async () => {
    const dir = fresh();
    writeFileSync(join(dir, "real.yml"), "a: 1\n");
    chmodSync(join(dir, "real.yml"), 0o640);
    symlinkSync(join(dir, "real.yml"), join(dir, "link.yml"));
    const path = await canonicalPath(join(dir, "link.yml"));
    const before = await identify(path);
    await writeDurably(path, "a: 2\n", { mode: 0o640 }, before?.id.sha256);
    assert.ok(lstatSync(join(dir, "link.yml")).isSymbolicLink());
    assert.equal(readFileSync(join(dir, "link.yml"), "utf8"), "a: 2\n");
    assert.equal(statSync(join(dir, "real.yml")).mode & 0o777, 0o640);
    assert.deepEqual(readdirSync(dir).sort(), ["link.yml", "real.yml"]);
  });

  test("refuses to replace bytes other than the expected ones, and to create over a newcomer", async () => {
    const dir = fresh();
    const path = join(dir, "f");
    writeFileSync(path, "theirs\n");
    await assert.rejects(writeDurably(path, "ours\n", { mode: 0o644 }, sha256("mine\n")), ReplacedChanged);
    await assert.rejects(writeDurably(path, "ours\n", { mode: 0o644 }, null), ReplacedChanged);
    assert.equal(readFileSync(path, "utf8"), "theirs\n");
    assert.deepEqual(readdirSync(dir), ["f"]);
  });

  test("an in-place edit landing just before the rename is put back, not replaced", async () => {
    const dir = fresh();
    const path = join(dir, "f");
    writeFileSync(path, "original\n");
    // The stand-in editor appends to the file the moment the rename is about to happen.
    const fsp = createRequire(import.meta.url)("node:fs/promises") as Record<string, unknown>;
    const rename = fsp.rename as (a: string, b: string) => Promise<void>;
    fsp.rename = (a: string, b: string): Promise<void> => {
      if (b === path) appendFileSync(path, "edited meanwhile\n");
      return rename(a, b);
    };
    syncBuiltinESMExports();
    try {
      await assert.rejects(
        writeDurably(path, "ours\n", { mode: 0o644 }, sha256("original\n")),
        /changed while it was being replaced/,
      );
    } finally {
      fsp.rename = rename;
      syncBuiltinESMExports();
    }
    assert.equal(readFileSync(path, "utf8"), "original\nedited meanwhile\n");
    assert.deepEqual(readdirSync(dir), ["f"]);
  });
});
