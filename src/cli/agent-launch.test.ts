// The deployed agent's entry point: the manifests, the package's bin map and the benchmark must all
// start the same thing, with Node flags that do not make V8 print a warning at every start.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parse as parseYaml } from "yaml";
import { AGENT_BIN, agentArgv, agentNodeFlags } from "./agent-launch.js";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));

describe("cnidoctor-agent entry point", () => {
  test("its shebang carries the memory flags", () => {
    const flags = agentNodeFlags();
    assert.ok(flags.includes("--jitless"), flags.join(" "));
    assert.ok(flags.includes("--max-semi-space-size=1"), flags.join(" "));
  });

  test("the package installs it as cnidoctor-agent", () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as {
      bin: Record<string, string>;
    };
    assert.equal(join(ROOT, pkg.bin["cnidoctor-agent"] ?? ""), AGENT_BIN);
  });

  test("the plain DaemonSet and the Helm chart run it, with no NODE_OPTIONS to contradict it", () => {
    const plain = parseYaml(readFileSync(join(ROOT, "deploy/agent/daemonset.yaml"), "utf8")) as {
      spec: {
        template: {
          spec: { containers: { command?: string[]; args: string[]; env?: { name: string }[] }[] };
        };
      };
    };
    const [container] = plain.spec.template.spec.containers;
    assert.deepEqual(container?.command, ["cnidoctor-agent"]);
    assert.ok(!container.args.includes("agent"));
    assert.ok(!(container.env ?? []).some((e) => e.name === "NODE_OPTIONS"));
    const chart = readFileSync(join(ROOT, "deploy/helm/cnidoctor-agent/templates/daemonset.yaml"), "utf8");
    assert.match(chart, /^ {10}command: \["cnidoctor-agent"\]$/m);
    assert.doesNotMatch(chart, /NODE_OPTIONS|^ {12}- agent$/m);
  });

  test("started with those flags it runs the agent command, with Node 20's one known warning at most", () => {
    const run = spawnSync(process.execPath, agentArgv(["--help"]), { encoding: "utf8" });
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stdout, /--node-name/);
    const expected = process.versions.node.startsWith("20.")
      ? "Warning: disabling flag --expose_wasm due to conflicting flags\n"
      : "";
    assert.equal(run.stderr, expected);
  });
});
