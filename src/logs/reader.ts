// Reading logs: files (one or a rotated set), stdin and API streams, each scanned as ONE source
// whose failures become a status and a one-line problem. The jobs are in their own modules:
// source-open.ts (opening, chunks, gzip, the head that plans the capture), stream-read.ts and
// plain-file.ts (the two ways a source is read), sampling-progress.ts (--sample, progress, the
// window), set-window.ts (--since/--until of a set) and read-outcome.ts (statuses and problems).

import { stat } from "node:fs/promises";
import type { LogCapture, LogScan, LogSource, LogSourceResult } from "../model/logs.js";
import { mergeScans } from "./merge.js";
import { planCapture } from "./normalise.js";
import { readPlain } from "./plain-file.js";
import { combineStatus, openProblem, settled, sourceLabel, type MemberResult } from "./read-outcome.js";
import { SAMPLE_RULE, SetRun } from "./sampling-progress.js";
import type { ReadOptions, ScanOptions } from "./scan-types.js";
import { LogScanner } from "./scanner.js";
import { resolveWindow } from "./set-window.js";
import type { SignatureSet } from "./signatures.js";
import { fileChunks, HEAD_BYTES, openLogFile } from "./source-open.js";
import { readStream } from "./stream-read.js";

// The reader's surface as other layers import it (index.ts, src/cli).
export { formatSize, openProblem, sourceLabel } from "./read-outcome.js";
export { SAMPLE_MIN_SPAN_MS, SAMPLE_MIN_SYMPTOMS } from "./sampling-progress.js";
export type { ReadOptions, WindowBound } from "./scan-types.js";

function emptyScan(set: SignatureSet, options?: ScanOptions): LogScan {
  return new LogScanner(set, options).finish();
}

/** Scans one member of a set: a file path (or '-'). */
async function scanMember(path: string, run: SetRun): Promise<MemberResult> {
  if (path === "-") return readStream(process.stdin, "stdin", run, run.options.referenceTime);
  const handle = await openLogFile(path);
  if ("problem" in handle) return { status: "unreadable", problem: handle.problem };
  try {
    const stat = await handle.stat();
    if (stat.isDirectory()) return { status: "unreadable", problem: `${path}: is a directory` };
    const head = Buffer.allocUnsafe(HEAD_BYTES);
    const first = (await handle.read(head, 0, HEAD_BYTES, 0)).bytesRead;
    let result: MemberResult;
    if (!stat.isFile() || (first >= 2 && head[0] === 0x1f && head[1] === 0x8b)) {
      result = await readStream(fileChunks(handle), path, run, stat.mtime);
    } else {
      const plan = planCapture(head.subarray(0, first));
      if (plan === undefined)
        return { status: "unreadable", problem: `${path}: binary data, not a text log` };
      // A capture the fast path cannot read as it is streams through the shaped path (normalise.ts).
      if (plan.shaped) return await readStream(fileChunks(handle), path, run, stat.mtime);
      result = await readPlain(handle, path, stat.size, run, stat.mtime);
    }
    // Planned plain from its head, but a shaped record came later: read it again, shaped. Only
    // files can be read twice; a pipe keeps its plain reading.
    if (result.reshape !== true || !stat.isFile()) {
      const rest = { ...result };
      delete rest.reshape;
      return rest.scan === undefined ? rest : { ...rest, scan: settled(rest.scan) };
    }
    return await readStream(fileChunks(handle), path, run, stat.mtime, true);
  } catch (error) {
    return { status: "unreadable", problem: openProblem(path, error) };
  } finally {
    await handle.close().catch(() => undefined);
  }
}

async function totalSize(members: readonly string[]): Promise<number | undefined> {
  let total = 0;
  for (const path of members) {
    if (path === "-") return undefined;
    try {
      const s = await stat(path);
      if (!s.isFile()) return undefined;
      total += s.size;
    } catch {
      // counted as 0: the member's problem is reported when it is read
    }
  }
  return total;
}

/**
 * Reads the files of one rotated set, oldest first (see rotation.ts), as ONE source: counts, first
 * and last times and rates span the whole set; no record spans two files. A member that cannot be
 * read, or only in part, makes the source partial with a one-line problem naming it (problems of
 * several members are joined with "; "). With one member this is scanLogFile.
 */
export async function scanLogSet(
  members: readonly string[],
  set: SignatureSet,
  options: ReadOptions = {},
  source: LogSource = members.length === 1
    ? { kind: "file", path: members[0] ?? "-" }
    : { kind: "file", path: members.at(-1) ?? "-", members: [...members] },
): Promise<LogSourceResult> {
  const run = new SetRun(set, options, await totalSize(members));
  run.window = await resolveWindow(members, options);
  const results: MemberResult[] = [];
  for (const path of members) {
    if (run.stop) break;
    results.push(await scanMember(path, run));
  }
  run.report();
  const scans = results.flatMap((r) => (r.scan === undefined ? [] : [r.scan]));
  const scan = scans.length === 0 ? emptyScan(set, options) : mergeScans(set, scans, options.sampleLimit);
  const status = combineStatus(results);
  const problems = results.flatMap((r) => (r.problem === undefined ? [] : [r.problem]));
  const window = run.window;
  if (window !== undefined) {
    scan.window = {};
    if (window.sinceMs !== undefined) scan.window.since = new Date(window.sinceMs).toISOString();
    if (window.untilMs !== undefined) scan.window.until = new Date(window.untilMs).toISOString();
  }
  if (run.sampler !== undefined) {
    scan.sample = { stoppedEarly: run.stop, bytesRead: run.bytesRead };
    if (run.total !== undefined) scan.sample.totalBytes = run.total;
    if (run.stop) scan.sample.reason = SAMPLE_RULE;
  }
  const result: LogSourceResult = { source, status, scan };
  if (problems.length > 0) result.problem = problems.join("; ");
  addCaptures(result, results, set, options.sampleLimit);
  return result;
}

/** The shapes met and the per-subject scans of a set's members (subjects merged across members). */
function addCaptures(
  result: LogSourceResult,
  members: readonly MemberResult[],
  set: SignatureSet,
  sampleLimit: number | undefined,
): void {
  const shapes = new Set(members.flatMap((m) => m.shapes ?? []));
  if (shapes.size > 0) result.shapes = [...shapes].sort();
  if (!members.some((m) => m.captures !== undefined)) return;
  const bySubject = new Map<string, LogCapture[]>();
  for (const m of members) {
    const parts = m.captures ?? (m.scan === undefined ? [] : [{ subject: {}, scan: m.scan }]);
    for (const c of parts) {
      const key = JSON.stringify([c.subject.pod, c.subject.container, c.subject.node]);
      const list = bySubject.get(key) ?? [];
      list.push(c);
      bySubject.set(key, list);
    }
  }
  result.captures = [...bySubject.values()].map((list) => ({
    subject: list[0]?.subject ?? {},
    scan:
      list.length === 1 && list[0]
        ? list[0].scan
        : mergeScans(
            set,
            list.map((c) => c.scan),
            sampleLimit,
          ),
  }));
}

/** Same as scanLogFile, for an already-open byte stream (used for API log streams). */
export async function scanLogStream(
  stream: AsyncIterable<Uint8Array>,
  source: LogSource,
  set: SignatureSet,
  options?: ScanOptions,
): Promise<LogSourceResult> {
  const run = new SetRun(set, options ?? {}, undefined);
  const result = await readStream(stream, sourceLabel(source), run, options?.referenceTime);
  run.report();
  const out: LogSourceResult = {
    source,
    status: result.status,
    scan: result.scan ?? emptyScan(set, options),
  };
  if (result.problem !== undefined) out.problem = result.problem;
  addCaptures(out, [result], set, options?.sampleLimit);
  return out;
}

/**
 * Reads a file ('-' = stdin; gzip recognised by its magic bytes), streaming in large chunks,
 * splitting lines, decoding formats, and scanning. Never throws for bad input: problems become
 * status "partial"/"unreadable" with a one-line `problem` naming the file.
 */
export function scanLogFile(
  path: string,
  set: SignatureSet,
  options?: ReadOptions,
): Promise<LogSourceResult> {
  return scanLogSet([path], set, options);
}
