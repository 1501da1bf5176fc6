// The npm package: `npm pack`, install the tarball into an empty prefix (offline, production
// dependencies from npm's cache), and run the commands from that prefix's bin. Everything a command
// needs at run time (advisories, data tables, the WebAssembly kernel, the verified advisory cache)
// has to be in the tarball, or these fail.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { REPO, VERSION, sh } from "./tools.js";

const work = mkdtempSync(join(tmpdir(), "cnid-pack-"));
const prefix = join(work, "prefix");
let files: string[] = [];

before(
  async () => {
    const packed = await sh("npm", ["pack", "--json", "--pack-destination", work], { cwd: REPO });
    assert.equal(packed.code, 0, packed.stderr);
    const info = JSON.parse(packed.stdout) as { filename: string; files: { path: string }[] }[];
    const first = info[0];
    assert.ok(first);
    files = first.files.map((f) => f.path);
    const inst = await sh("npm", [
      "install",
      "--global",
      "--prefix",
      prefix,
      "--prefer-offline",
      "--no-audit",
      "--no-fund",
      join(work, first.filename),
    ]);
    assert.equal(inst.code, 0, inst.stderr);
  },
  { timeout: 300_000 },
);

after(() => rmSync(work, { recursive: true, force: true }));

// A PATH with the prefix's bin first: the bin scripts find `node` through /usr/bin/env.
const env = { ...process.env, PATH: `${join(prefix, "bin")}:${process.env.PATH ?? ""}` };

describe("npm package", () => {
  test("the tarball holds the run-time files and no tests or sources", () => {
    for (const f of ["LICENSE", "dist/src/advisories/verified.json", "dist/src/cli/bin.js", "package.json"]) {
      assert.ok(files.includes(f), `${f} is in the package`);
    }
    assert.ok(files.some((f) => f.startsWith("advisories/") && f.endsWith(".yaml")));
    assert.ok(files.some((f) => f.startsWith("data/") && f.endsWith(".json")));
    assert.ok(
      files.some((f) => f.endsWith(".wasm")),
      "the WebAssembly kernel",
    );
    assert.ok(!files.some((f) => f.endsWith(".test.js")), "no compiled tests");
    assert.ok(!files.some((f) => f.endsWith(".ts") && !f.endsWith(".d.ts")), "no TypeScript sources");
  });

  test("cnidoctor --version from the prefix", async () => {
    const r = await sh(join(prefix, "bin", "cnidoctor"), ["--version"], { env });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), `cnidoctor ${VERSION}`);
  });

  test("cnidoctor scan --bundle on the example gives the repo's verdict", async () => {
    const bundle = join(prefix, "lib", "node_modules", "cnidoctor", "examples", "rke1-canal-affected");
    const r = await sh(join(prefix, "bin", "cnidoctor"), ["scan", "--bundle", bundle, "-o", "json"], { env });
    assert.equal(r.code, 3, r.stderr);
    const fromRepo = await sh(process.execPath, [
      join(REPO, "dist", "src", "cli", "bin.js"),
      "scan",
      "--bundle",
      bundle,
      "-o",
      "json",
    ]);
    const ids = (out: string): string[] =>
      (JSON.parse(out) as { findings: { advisoryId: string; status: string }[] }).findings
        .map((f) => `${f.advisoryId}:${f.status}`)
        .sort();
    assert.deepEqual(ids(r.stdout), ids(fromRepo.stdout));
    assert.ok(ids(r.stdout).length > 0);
  });

  test("kubectl-cnidoctor --help from the prefix", async () => {
    const r = await sh(join(prefix, "bin", "kubectl-cnidoctor"), ["--help"], { env });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /scan/);
  });

  test("cnidoctor-agent --help from the prefix", async () => {
    const r = await sh(join(prefix, "bin", "cnidoctor-agent"), ["--help"], { env });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout + r.stderr, /agent/);
  });
});
