// What matched, counted: per signature its records, first and last stamps and samples; per
// fingerprint its records; and the LogScan fields made of them. Runs once per record that holds a
// prefilter hit (see record-assembly.ts), never per line.

import type { Signature } from "../model/advisory.js";
import type { FingerprintHit, LogFormat, SignalStat } from "../model/logs.js";
import { BIT_PLAIN, FORMAT_BITS } from "./lines.js";
import type { SignatureMatch } from "./scan-types.js";
import { LiteralPresence, matchSignature, type LiteralFinder, type SignatureSet } from "./signatures.js";
import { resolveStamp, toIso, type Stamp, type YearHint } from "./time.js";

const SAMPLE_CHARS = 300;

interface SignalAcc {
  count: number;
  first: Stamp | undefined;
  last: Stamp | undefined;
  samples: string[];
}

function clip(line: string): string {
  return line.length > SAMPLE_CHARS ? line.slice(0, SAMPLE_CHARS) : line;
}

// Felix header: `<date> <time> [LEVEL][pid] [dir/]file.go <line>: <message>`.
// Felix's caller tag, wherever the header puts it: after Felix's own timestamp, after a
// `kubectl logs --timestamps` prefix, or at the very start when a shipper dropped the timestamp.
const FELIX_CALLER = /\[[A-Z]+\]\[\d+\] (?:\S*\/)?([^\s/]+\.go) (\d+): /;
// klog header (flanneld, Kubernetes components): `Lmmdd hh:mm:ss.uuuuuu <pid> [dir/]file.go:<line>] <message>`,
// at the start or after whatever prefix an envelope or capture left (a --timestamps stamp, a pod tag).
const KLOG_CALLER = /(?:^|\s)[IWEF]\d{4} \d{2}:\d{2}:\d{2}\.\d+\s+\d+ (?:\S*\/)?([^\s/:]+\.go):(\d+)\] /;

/** The signature and fingerprint counts of one scanner. */
export class SignalTally {
  private readonly presence: LiteralPresence;
  private readonly signals: SignalAcc[];
  private readonly fingerprintCounts: number[];

  constructor(
    private readonly set: SignatureSet,
    private readonly sampleLimit: number,
    private readonly onMatch: ((match: SignatureMatch) => void) | undefined,
  ) {
    this.presence = new LiteralPresence(set.literals);
    this.signals = set.signatures.map(() => ({ count: 0, first: undefined, last: undefined, samples: [] }));
    this.fingerprintCounts = set.fingerprints.map(() => 0);
  }

  /** Finds a record's prefilter literals in one pass (see LiteralFinder). */
  useLiteralFinder(finder: LiteralFinder): void {
    this.presence.finder = finder;
  }

  /** Tests one record (its lines joined by "\n") against the signatures and fingerprints. */
  test(text: string, stamp: Stamp | undefined): void {
    const headerEnd = lineEndAt(text, 0);
    this.presence.reset(text);
    this.set.signatures.forEach((sig, i) => {
      const decidedAt = matchSignature(sig, text, headerEnd, this.presence);
      const acc = this.signals[i];
      if (decidedAt < 0 || !acc) return;
      acc.count++;
      if (stamp) {
        acc.first ??= stamp;
        acc.last = stamp;
      }
      if (acc.samples.length < this.sampleLimit) acc.samples.push(sampleOf(text, headerEnd, decidedAt));
      if (this.onMatch) this.reportMatch(sig.advisoryId, sig.signature, stamp);
    });
    if (this.set.fingerprints.length > 0) this.countFingerprints(text.slice(0, headerEnd));
  }

  private reportMatch(advisoryId: string, signature: Signature, stamp: Stamp | undefined): void {
    const match: SignatureMatch = { advisoryId, signatureId: signature.id, role: signature.role };
    if (stamp?.kind === "full") match.time = stamp.ms;
    this.onMatch?.(match);
  }

  private countFingerprints(header: string): void {
    const m = FELIX_CALLER.exec(header) ?? KLOG_CALLER.exec(header);
    if (!m) return;
    const ids = this.set.fingerprintsByKey.get(`${m[1] ?? ""}:${m[2] ?? ""}`);
    if (!ids) return;
    const message = header.slice(m.index + m[0].length);
    for (const id of ids) {
      const fp = this.set.fingerprints[id];
      if (fp && message.includes(fp.fingerprint.message)) {
        this.fingerprintCounts[id] = (this.fingerprintCounts[id] ?? 0) + 1;
      }
    }
  }

  signalStats(hint: YearHint): SignalStat[] {
    const out: SignalStat[] = [];
    this.set.signatures.forEach((sig, i) => {
      const acc = this.signals[i];
      if (!acc || acc.count === 0) return;
      const stat: SignalStat = {
        advisoryId: sig.advisoryId,
        signatureId: sig.signature.id,
        role: sig.signature.role,
        count: acc.count,
        samples: acc.samples,
      };
      const first = resolveStamp(acc.first, hint);
      const last = resolveStamp(acc.last, hint);
      if (first !== undefined && last !== undefined) {
        stat.firstSeen = toIso(first);
        stat.lastSeen = toIso(last);
        const span = Math.abs(last - first);
        if (span >= 60_000) stat.ratePerHour = acc.count / (span / 3_600_000);
      }
      out.push(stat);
    });
    return out;
  }

  fingerprintHits(): FingerprintHit[] {
    const out: FingerprintHit[] = [];
    this.set.fingerprints.forEach((fp, i) => {
      const count = this.fingerprintCounts[i] ?? 0;
      if (count === 0) return;
      out.push({
        advisoryId: fp.advisoryId,
        fingerprintId: fp.fingerprint.id,
        file: fp.fingerprint.file,
        line: fp.fingerprint.line,
        versions: [...fp.fingerprint.versions],
        count,
      });
    });
    return out;
  }
}

/** The formats of a source from the bits its lines set (plain when lines had none). */
export function formatsOf(formatBits: number, lines: number): LogFormat[] {
  const bits = formatBits === 0 && lines > 0 ? BIT_PLAIN : formatBits;
  return FORMAT_BITS.filter(([, bit]) => (bits & bit) !== 0).map(([name]) => name);
}

/** Where the line holding text[from] ends (its "\n", or the end of the text). */
export function lineEndAt(text: string, from: number): number {
  const nl = text.indexOf("\n", from);
  return nl < 0 ? text.length : nl;
}

function sampleOf(text: string, headerEnd: number, decidedAt: number): string {
  const head = clip(text.slice(0, headerEnd));
  if (decidedAt <= headerEnd) return detached(head);
  const lineStart = text.lastIndexOf("\n", decidedAt) + 1;
  return detached(`${head}\n${clip(text.slice(lineStart, lineEndAt(text, decidedAt)))}`);
}

/**
 * A copy of `s` that shares no memory with the text it was cut from. V8 keeps a substring as a view
 * of its parent, so a 200-character sample would hold the whole decoded read buffer it came from
 * (tens of KB) for as long as the scan result lives: measured, ~20 MB per 1,000 pods in a live
 * scan. Samples are few, so the copy is cheap.
 */
function detached(s: string): string {
  return Buffer.from(s, "utf8").toString("utf8");
}
