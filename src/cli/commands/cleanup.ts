// The start-up cleanup of apply, rollback and collect: what a killed earlier run left (see
// src/io/leftovers.ts for the rule) is cleared before anything else, and said on stderr at once,
// so the line is there whether the command then succeeds or fails.

import { cleanupLines, type Cleanup } from "../../io/leftovers.js";
import type { Runtime } from "./types.js";

/** Runs `sweep`; a sweep that fails (a directory that cannot be read) changes nothing and says so. */
export async function cleanUp(rt: Runtime, sweep: () => Promise<Cleanup>): Promise<void> {
  let found: Cleanup;
  try {
    found = await sweep();
  } catch (e) {
    rt.notice?.(`cleanup: skipped (${e instanceof Error ? e.message : String(e)})`);
    return;
  }
  for (const line of cleanupLines(found)) rt.notice?.(line);
}
