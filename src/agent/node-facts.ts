// What the node agent reads about its node for fact conditions (kind agent-fact), from what Linux
// exposes without extra binaries:
//   nicDriver              the driver of the NIC carrying the default route: the interface from
//                          /proc/1/net/route, then the /sys/class/net/<if>/device/driver link
//   udpInCsumErrors        Udp InCsumErrors of /proc/1/net/snmp at the previous and this reading
//   kernelLog              kernel log records (/dev/kmsg) newer than the previous reading that match
//                          a kernel-log condition's pattern (kept lines, and a count per condition)
// The offload flags of a device (ethtool -k) are NOT read: Linux exposes them only through the
// SIOCETHTOOL ioctl or ethtool netlink, not in /sys or /proc, and Node reaches neither.
//
// /proc/1 rather than /proc/self: with the host's /proc mounted (hostRoot) PID 1 is the host's
// init, so the counters and routes are the host network namespace's, not the agent container's.
// The kernel log needs CAP_SYSLOG where kernel.dmesg_restrict is 1 (most distributions); without
// it the fact is reported unavailable with the reason, never as "no lines".

import { closeSync, constants, openSync, readSync } from "node:fs";
import { readFile, readlink } from "node:fs/promises";
import { basename, join } from "node:path";
import type { AgentNodeFacts } from "../model/snapshot.js";

export interface NodeFactReader {
  /** Where the host's / is visible (the host's /proc and /sys under it). */
  hostRoot: string;
  /** The advisories' kernel-log conditions: lines matching one are kept and counted by its id. */
  kernelConditions: readonly KernelLogCondition[];
}

export interface KernelLogCondition {
  id: string;
  pattern: RegExp;
}

/** The interface of the default route (destination 00000000) in /proc/net/route text. */
export function defaultRouteInterface(route: string): string | undefined {
  for (const line of route.split("\n").slice(1)) {
    const [iface, destination, , flags, , , , mask] = line.trim().split(/\s+/);
    if (iface === undefined || destination !== "00000000" || mask !== "00000000") continue;
    // RTF_UP (0x1): a route that is down does not carry traffic.
    if (flags !== undefined && (Number.parseInt(flags, 16) & 1) === 0) continue;
    return iface;
  }
  return undefined;
}

/** Udp InCsumErrors from /proc/net/snmp text (a header line and a value line per protocol). */
export function udpInCsumErrors(snmp: string): number | undefined {
  const lines = snmp.split("\n").filter((l) => l.startsWith("Udp:"));
  const [header, values] = lines;
  if (header === undefined || values === undefined) return undefined;
  const names = header.split(/\s+/).slice(1);
  const nums = values.split(/\s+/).slice(1);
  const i = names.indexOf("InCsumErrors");
  const v = i >= 0 ? Number(nums[i]) : Number.NaN;
  return Number.isFinite(v) ? v : undefined;
}

/** One /dev/kmsg record: "pri,seq,usec,flags[,…];message". */
export function parseKmsg(record: string): { seq: number; usec: number; message: string } | undefined {
  const semi = record.indexOf(";");
  if (semi < 0) return undefined;
  const [, seq, usec] = record.slice(0, semi).split(",");
  const message = record.slice(semi + 1).split("\n")[0] ?? "";
  const s = Number(seq);
  const u = Number(usec);
  return Number.isFinite(s) && Number.isFinite(u) ? { seq: s, usec: u, message } : undefined;
}

/** dmesg-style "[ seconds.micro] message". */
function dmesgLine(usec: number, message: string): string {
  const secs = Math.floor(usec / 1e6);
  const micro = String(usec % 1e6).padStart(6, "0");
  return `[${String(secs).padStart(5, " ")}.${micro}] ${message}`;
}

/** Reads the kernel ring buffer without blocking: every record after `afterSeq`. */
function readKmsg(
  path: string,
  afterSeq: number,
): { records: { seq: number; line: string }[]; lastSeq: number } {
  const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  const records: { seq: number; line: string }[] = [];
  let lastSeq = afterSeq;
  const buf = Buffer.alloc(8192);
  try {
    for (;;) {
      let n: number;
      try {
        n = readSync(fd, buf, 0, buf.length, null);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        // EAGAIN: the buffer is drained; EPIPE: records were overwritten while reading (skip on).
        if (code === "EAGAIN") break;
        if (code === "EPIPE") continue;
        throw e;
      }
      if (n <= 0) break;
      const r = parseKmsg(buf.subarray(0, n).toString("utf8"));
      if (r === undefined || r.seq <= afterSeq) continue;
      lastSeq = Math.max(lastSeq, r.seq);
      records.push({ seq: r.seq, line: dmesgLine(r.usec, r.message) });
    }
  } finally {
    closeSync(fd);
  }
  return { records, lastSeq };
}

const MAX_KERNEL_LINES = 20;

/** Reads the node facts; `previous` is this reader's earlier reading (counter and kmsg position). */
export class NodeFactsReader {
  private prevCsum: number | undefined;
  private kmsgSeq = -1;

  constructor(
    private readonly node: string,
    private readonly opts: NodeFactReader,
  ) {}

  private path(...parts: string[]): string {
    return join(this.opts.hostRoot, ...parts);
  }

  async read(now: Date): Promise<AgentNodeFacts> {
    const unavailable: Record<string, string> = {};
    const facts: AgentNodeFacts = { node: this.node, readAt: now.toISOString(), unavailable };
    const routePath = this.path("proc", "1", "net", "route");
    try {
      const iface = defaultRouteInterface(await readFile(routePath, "utf8"));
      if (iface === undefined) unavailable.nicDriver = `${routePath} has no default route`;
      else {
        const link = this.path("sys", "class", "net", iface, "device", "driver");
        try {
          facts.nicDriver = {
            value: basename(await readlink(link)),
            interface: iface,
            source: `${link} (default route via ${iface})`,
          };
        } catch (e) {
          unavailable.nicDriver = `${link}: ${(e as Error).message} (a virtual device has no driver link)`;
        }
      }
    } catch (e) {
      unavailable.nicDriver = `${routePath}: ${(e as Error).message}`;
    }
    const snmpPath = this.path("proc", "1", "net", "snmp");
    try {
      const v = udpInCsumErrors(await readFile(snmpPath, "utf8"));
      if (v === undefined) unavailable.udpInCsumErrorsRising = `${snmpPath} has no Udp InCsumErrors`;
      else {
        facts.udpInCsumErrors = {
          first: this.prevCsum ?? v,
          last: v,
          source: `${snmpPath} Udp InCsumErrors`,
        };
        this.prevCsum = v;
      }
    } catch (e) {
      unavailable.udpInCsumErrorsRising = `${snmpPath}: ${(e as Error).message}`;
    }
    const conditions = this.opts.kernelConditions;
    if (conditions.length > 0) {
      const kmsg = this.path("dev", "kmsg");
      try {
        const r = readKmsg(kmsg, this.kmsgSeq);
        this.kmsgSeq = r.lastSeq;
        const matches: Record<string, number> = {};
        for (const c of conditions) matches[c.id] = 0;
        const kept: string[] = [];
        for (const { line } of r.records) {
          const hits = conditions.filter((c) => c.pattern.test(line));
          for (const c of hits) matches[c.id] = (matches[c.id] ?? 0) + 1;
          if (hits.length > 0) kept.push(line);
        }
        // Every match is counted; only the newest lines are kept as examples.
        facts.kernelLog = { lines: kept.slice(-MAX_KERNEL_LINES), matches, source: kmsg };
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        unavailable.kernelLog = `${kmsg}: ${(e as Error).message}${code === "EPERM" || code === "EACCES" ? " (needs CAP_SYSLOG where kernel.dmesg_restrict=1)" : ""}`;
      }
    }
    return facts;
  }
}
