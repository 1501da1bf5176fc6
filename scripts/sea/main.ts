// The single file's entry (kubectl-cnidoctor). Node runs an executable's embedded script with every
// argument as a user argument, so `process.execPath` is this file, not a Node: the commands that
// start a short-lived child program (`execPath [node flags] <dist/src/cli/*-loader.js> <json>`)
// reach it here, and it runs the bundled loader in place of the script they name. Anything else
// is the command line of `cnidoctor` itself, run by the bundled dist/src/cli/bin.js.

import { setFlagsFromString } from "node:v8";
import { join } from "node:path";
import { runtimeRoot } from "./runtime-sea.js";

/** The child programs the CLI starts with process.execPath, by their path under the runtime root. */
const CHILD_PROGRAMS: Record<string, () => Promise<unknown>> = {
  "dist/src/cli/kube-loader.js": () => import("../../src/cli/kube-loader.js"),
};

function childProgram(
  argv: string[],
): { run: () => Promise<unknown>; flags: string[]; rest: string[] } | undefined {
  let i = 0;
  while (i < argv.length && /^--[\w-]+(=\S+)?$/.test(argv[i] ?? "")) i++;
  const script = argv[i];
  if (script === undefined || !script.startsWith("/")) return undefined;
  const root = runtimeRoot();
  for (const [path, run] of Object.entries(CHILD_PROGRAMS)) {
    if (script === join(root, path)) return { run, flags: argv.slice(0, i), rest: argv.slice(i) };
  }
  return undefined;
}

const argv = process.argv.slice(2);
const child = childProgram(argv);
if (child) {
  // The V8 flags a Node would have taken (e.g. the agent loader's small young generation).
  for (const flag of child.flags) setFlagsFromString(flag);
  process.argv = [process.argv[0] ?? process.execPath, ...child.rest];
  await child.run();
} else {
  await import("../../src/cli/bin.js");
}
