// Reads a cluster-info dump `<ns>/<pod>/logs.txt`: blocks delimited by
// `==== START logs for container C of pod NS/P ====` / `==== END … ====`. Streams the file once and
// feeds each wanted container's lines to its own scanner; nothing is held beyond the current line.

import { InputError } from "../../errors.js";
import { openInput } from "../../io/open-input.js";
import type { LogScan, LogSource, LogSourceResult } from "../../model/logs.js";
import { LogScanner } from "../../logs/index.js";
import type { ScanOptions, SignatureSet } from "../../logs/index.js";

const START = /^==== START logs for container (\S+) of pod (\S+)\/(\S+) ====$/;
const END = /^==== END logs for container (\S+) of pod (\S+)\/(\S+) ====$/;
const LOG_ERROR = /^(Request log error|Create log request error): /;
const MAX_LINE = 1024 * 1024;

export interface PodLogRequest {
  path: string;
  namespace: string;
  pod: string;
  node?: string;
  containers: string[];
  /** The pod's start (status.startTime): the year for log stamps without one (klog). */
  startTime?: string;
}

function emptyScan(): LogScan {
  return { bytes: 0, lines: 0, records: 0, formats: [], signals: [], fingerprints: [] };
}

function sourceFor(req: PodLogRequest, container: string): LogSource {
  return {
    kind: "pod",
    namespace: req.namespace,
    pod: req.pod,
    container,
    origin: req.path,
    ...(req.node !== undefined ? { node: req.node } : {}),
  };
}

interface BlockState {
  scanner: LogScanner;
  error?: string;
  truncatedLines: number;
}

/** Splits a byte stream into lines without ever building a line longer than MAX_LINE. */
async function* lines(path: string): AsyncGenerator<{ text: string; bytes: number }> {
  let carry: Buffer[] = [];
  let carryLen = 0;
  const { handle } = await openInput(path, "log");
  for await (const chunk of handle.createReadStream({ highWaterMark: 1024 * 1024 })) {
    const buf = chunk as Buffer;
    let start = 0;
    for (let nl = buf.indexOf(10, start); nl !== -1; nl = buf.indexOf(10, start)) {
      const piece = buf.subarray(start, nl);
      const total = carryLen + piece.length;
      const joined = carryLen > 0 ? Buffer.concat([...carry, piece]) : piece;
      carry = [];
      carryLen = 0;
      yield { text: joined.subarray(0, MAX_LINE).toString("utf8").replace(/\r$/, ""), bytes: total + 1 };
      start = nl + 1;
    }
    const rest = buf.subarray(start);
    if (carryLen < MAX_LINE) {
      carry.push(rest.subarray(0, MAX_LINE - carryLen));
      carryLen += Math.min(rest.length, MAX_LINE - carryLen);
    }
  }
  if (carryLen > 0) yield { text: Buffer.concat(carry).toString("utf8"), bytes: carryLen };
}

function scanOptions(req: PodLogRequest): ScanOptions {
  const started = req.startTime !== undefined ? Date.parse(req.startTime) : Number.NaN;
  return Number.isFinite(started) ? { yearNear: new Date(started) } : {};
}

export async function readPodLogs(req: PodLogRequest, set: SignatureSet): Promise<LogSourceResult[]> {
  const blocks = new Map<string, BlockState>();
  let current: BlockState | undefined;
  let sawAnyBlock = false;
  let binary = false;
  try {
    for await (const { text, bytes } of lines(req.path)) {
      if (!sawAnyBlock && text.includes("\u0000")) {
        binary = true;
        break;
      }
      const start = START.exec(text);
      if (start) {
        sawAnyBlock = true;
        const container = start[1] ?? "";
        current = req.containers.includes(container)
          ? { scanner: new LogScanner(set, scanOptions(req)), truncatedLines: 0 }
          : undefined;
        if (current) blocks.set(container, current);
        continue;
      }
      if (END.test(text)) {
        current = undefined;
        continue;
      }
      if (!current) continue;
      if (LOG_ERROR.test(text)) current.error = text.slice(0, 200);
      current.scanner.pushLine(text, bytes);
    }
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const problem =
      e instanceof InputError
        ? e.problem
        : code === "ENOENT"
          ? "not in the bundle"
          : `cannot be read (${code ?? (e as Error).message})`;
    return req.containers.map((c) => ({
      source: sourceFor(req, c),
      status: "unreadable",
      problem: `${req.path}: ${problem}`,
      scan: emptyScan(),
    }));
  }
  return req.containers.map((c): LogSourceResult => {
    const block = blocks.get(c);
    if (!block) {
      const problem = binary
        ? `${req.path}: binary data, not a cluster-info logs.txt`
        : sawAnyBlock
          ? `no logs for container ${c} in ${req.path}`
          : `${req.path}: no cluster-info log blocks found`;
      return { source: sourceFor(req, c), status: "unreadable", problem, scan: emptyScan() };
    }
    const scan = block.scanner.finish();
    if (block.error !== undefined && scan.lines <= 1) {
      return {
        source: sourceFor(req, c),
        status: "unreadable",
        problem: `${req.path}: ${block.error}`,
        scan,
      };
    }
    return { source: sourceFor(req, c), status: "read", scan };
  });
}
