// Reading a source as a stream (stdin, an API log stream, a gzip file, a shaped capture): gzip by
// its magic bytes, the capture planned from its head, then scanned on the fast path or the shaped
// path (normalise.ts).

import type { LogCapture, LogScan } from "../model/logs.js";
import { ShapedSink } from "./normalise.js";
import {
  failureOutcome,
  settled,
  truncationProblem,
  type MemberResult,
  type Outcome,
} from "./read-outcome.js";
import type { SetRun } from "./sampling-progress.js";
import type { LogScanner } from "./scanner.js";
import { gunzip, Intake, isGzip, peek, tagged } from "./source-open.js";

async function* advanced(chunks: AsyncIterable<Buffer>, run: SetRun): AsyncGenerator<Buffer> {
  for await (const chunk of chunks) {
    run.advance(chunk.length);
    yield chunk;
  }
}

/** A stream (stdin, an API stream, a gzip file, a shaped capture): gzip by magic bytes, plan, scan. */
export async function readStream(
  stream: AsyncIterable<Uint8Array>,
  label: string,
  run: SetRun,
  referenceTime: Date | undefined,
  forceShaped = false,
): Promise<MemberResult> {
  let scanner: LogScanner | undefined;
  let shaped: ShapedSink | undefined;
  const intake = new Intake((plan) => {
    if (plan.shaped || forceShaped) {
      const unwrapped = (): LogScanner => {
        const s = run.scanner(referenceTime);
        s.watchShapes = false;
        return s;
      };
      shaped = new ShapedSink(plan, unwrapped, run.window);
      return shaped;
    }
    scanner = run.scanner(referenceTime);
    return run.sink(scanner).sink;
  });
  const iterator = stream[Symbol.asyncIterator]();
  let gzip = false;
  let outcome: Outcome = { status: "read" };
  try {
    const first = await peek(iterator);
    gzip = isGzip(first);
    const raw = advanced(tagged(first, iterator), run);
    for await (const chunk of gzip ? gunzip(raw) : raw) {
      if (!intake.push(chunk) || run.stop) break;
    }
  } catch (error) {
    outcome = failureOutcome(error, label, gzip, intake.bytes);
  } finally {
    await iterator.return?.();
  }
  intake.end();
  if (intake.binary) return { status: "unreadable", problem: `${label}: binary data, not a text log` };
  let scan: LogScan;
  let captures: LogCapture[] | undefined;
  let lineLimit: number;
  const sink = shaped;
  if (sink !== undefined) {
    const result = sink.result(run.set, run.options.sampleLimit);
    scan = result.scan;
    captures = result.captures;
    lineLimit = run.options.maxLineBytes ?? 1024 * 1024;
  } else {
    const plain = scanner ?? run.scanner(referenceTime);
    scan = plain.finish();
    lineLimit = plain.lineLimit;
  }
  if (outcome.status === "read") {
    const problem = truncationProblem(label, scan, lineLimit);
    if (problem !== undefined) outcome.problem = problem;
    // A capture read in part by its shape (a CSV quote never closed): said, and the read is partial.
    const shapeProblems = sink?.problems ?? [];
    if (shapeProblems.length > 0) {
      const said = `${label}: ${shapeProblems.join("; ")}`;
      outcome = {
        status: "partial",
        problem: outcome.problem === undefined ? said : `${outcome.problem}; ${shapeProblems.join("; ")}`,
      };
    }
  }
  const out: MemberResult = { ...outcome, scan: settled(scan) };
  if (scan.shapedLines !== undefined) out.reshape = true;
  if (sink !== undefined) out.shapes = [...sink.shapes];
  if (captures !== undefined) out.captures = captures;
  return out;
}
