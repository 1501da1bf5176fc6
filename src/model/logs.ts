// What the log engine reports about one log source. Raw lines are never kept beyond a few samples:
// a 100 GB log reduces to counts, first/last times and rates.

export type LogFormat = "felix" | "cri" | "docker-json" | "syslog" | "plain";

/**
 * How a log was saved, beyond the formats the fast path reads (plain, CRI, Docker's exact layout):
 * JSON-lines shippers and exports, multi-pod kubectl/stern captures, pasted text, and encodings.
 */
export type CaptureShape =
  | "docker-json"
  | "fluent"
  | "loki"
  | "logcli"
  | "grafana-txt"
  | "journal-text"
  | "journald"
  | "elastic"
  | "elastic-csv"
  | "kubectl-prefix"
  | "stern"
  | "kubectl-timestamps"
  | "quoted"
  | "crlf"
  | "ansi"
  | "utf8-bom"
  | "utf16le";

/** Who wrote a part of a multi-pod capture, as far as the capture names it. */
export interface CaptureSubject {
  pod?: string;
  container?: string;
  node?: string;
}

/** The scan of one subject's lines in a multi-pod capture (records never span two subjects). */
export interface LogCapture {
  subject: CaptureSubject;
  scan: LogScan;
}

export type LogSource =
  | {
      kind: "file";
      path: string;
      /** A rotated set read as one source: its files, oldest first (path is the newest). */
      members?: string[];
    }
  | {
      kind: "pod";
      namespace: string;
      pod: string;
      container: string;
      node?: string;
      previous?: boolean;
      /** Where the text came from: bundle logs.txt path or "api". */
      origin: string;
    };

export type SignatureRole = "symptom" | "corroborating" | "context" | "lookalike";

export interface SignalStat {
  advisoryId: string;
  signatureId: string;
  role: SignatureRole;
  count: number;
  /** ISO timestamps; absent when the lines carried no parseable time. */
  firstSeen?: string;
  lastSeen?: string;
  /** Matches per hour over [firstSeen, lastSeen]; absent for a single instant. */
  ratePerHour?: number;
  /** A few representative lines (the first line of a record, trimmed), for evidence. */
  samples: string[];
}

export interface FingerprintHit {
  advisoryId: string;
  fingerprintId: string;
  /** Source file and line of the logging program, e.g. "int_dataplane.go", 1747. */
  file: string;
  line: number;
  /** Versions of the advisory's component (Calico, flannel) whose source has that message at that line. */
  versions: string[];
  count: number;
}

export interface LogScan {
  bytes: number;
  lines: number;
  /** Multi-line records assembled (a header line and its continuation lines). */
  records: number;
  /** Physical lines longer than the scanner's line cap, cut there for matching (absent when none). */
  truncatedLines?: number;
  /**
   * @internal Lines a plain read met that carry a capture shape it does not unwrap; the reader then
   * reads the source again on the shaped path and never reports this field.
   */
  shapedLines?: number;
  formats: LogFormat[];
  firstTimestamp?: string;
  lastTimestamp?: string;
  /**
   * Where the year of the source's times came from when its stamps carry none (klog, syslog) and no
   * line had a full timestamp: the container's start time, the file's modification time, or the
   * current year. Absent when the log's own timestamps (or an envelope's) gave it, or no time was read.
   */
  yearFrom?: "start-time" | "file-time" | "current-year";
  signals: SignalStat[];
  fingerprints: FingerprintHit[];
  /** The time window applied (--since/--until, ISO): lines outside it counted nowhere. */
  window?: { since?: string; until?: string };
  /** Present when sampling was asked for (--sample): whether it stopped early, and how much was read. */
  sample?: LogSampleCoverage;
}

export interface LogSampleCoverage {
  stoppedEarly: boolean;
  /** Bytes read from the source files (compressed bytes for gzip). */
  bytesRead: number;
  /** Their total size, when known (not for stdin). */
  totalBytes?: number;
  /** Why it stopped (the evidence rule that was met). */
  reason?: string;
}

export interface LogSourceResult {
  source: LogSource;
  /** read: all of it; partial: read up to an error or a cap; unreadable: nothing usable. */
  status: "read" | "partial" | "unreadable";
  /** One line naming the problem when status is not "read". */
  problem?: string;
  scan: LogScan;
  /** Shapes and encodings unwrapped on the way in (absent for a plain, CRI or Docker log). */
  shapes?: CaptureShape[];
  /**
   * Per subject, when the capture names pods or nodes (kubectl --prefix, stern, shipper fields):
   * `scan` is then their merge. Lines naming no subject form a capture with an empty subject.
   */
  captures?: LogCapture[];
}
