// The --since/--until window of a rotated set: a bound given as a span before the log's end is
// measured from the last full timestamp of the set's newest member that has one.

import { constants } from "node:fs";
import { open, stat } from "node:fs/promises";
import { inputProblem } from "../io/open-input.js";
import type { ReadOptions, WindowBound } from "./scan-types.js";
import { CHUNK_BYTES, fileChunks, gunzip } from "./source-open.js";
import { lastStampIn, lastStampOfFile, type TimeWindow } from "./window.js";

/** The last full timestamp of a set: of its newest member that has one (gzip is decompressed). */
async function endOfSet(members: readonly string[]): Promise<number | undefined> {
  for (let i = members.length - 1; i >= 0; i--) {
    const path = members[i];
    if (path === undefined || path === "-") continue;
    const found = await lastStampOfPath(path).catch(() => undefined);
    if (found !== undefined) return found;
  }
  return undefined;
}

async function lastStampOfPath(path: string): Promise<number | undefined> {
  if (inputProblem(await stat(path), "log") !== undefined) return undefined;
  const handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const stat = await handle.stat();
    const magic = Buffer.alloc(2);
    await handle.read(magic, 0, 2, 0);
    if (magic[0] !== 0x1f || magic[1] !== 0x8b) return await lastStampOfFile(handle, stat.size);
    // gzip: keep the last MiB of the decompressed text.
    let tail = Buffer.alloc(0);
    try {
      for await (const chunk of gunzip(fileChunks(handle))) {
        tail = Buffer.concat([
          tail.length > CHUNK_BYTES ? tail.subarray(tail.length - CHUNK_BYTES) : tail,
          chunk,
        ]);
      }
    } catch {
      // a truncated member: what was decompressed still has times
    }
    return lastStampIn(tail, false) ?? lastStampIn(tail, true);
  } finally {
    await handle.close().catch(() => undefined);
  }
}

export async function resolveWindow(
  members: readonly string[],
  options: ReadOptions,
): Promise<TimeWindow | undefined> {
  const { since, until } = options;
  if (since === undefined && until === undefined) return undefined;
  let end: number | undefined;
  if ((since !== undefined && "beforeEnd" in since) || (until !== undefined && "beforeEnd" in until)) {
    end = (await endOfSet(members)) ?? options.referenceTime?.getTime() ?? Date.now();
  }
  const at = (bound: WindowBound): number => ("at" in bound ? bound.at : (end ?? 0) - bound.beforeEnd);
  const window: TimeWindow = {};
  if (since !== undefined) window.sinceMs = at(since);
  if (until !== undefined) window.untilMs = at(until);
  return window;
}
