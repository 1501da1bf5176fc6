// Why a cluster of a fleet could not be scanned, as one of the fleet report's gap reasons, from
// what its pipeline threw. The live collector throws "could not read the cluster" with the first
// failed request's problem (kube/client.ts problemOf): the HTTP status word, the socket error code
// in parentheses, or the overall --timeout running out.

import { InputError, UsageError } from "../errors.js";
import type { GapReason } from "./report.js";

const UNREACHABLE =
  /\((ECONNREFUSED|EHOSTUNREACH|ENETUNREACH|ENOTFOUND|EADDRNOTAVAIL|EAI_AGAIN|ECONNRESET)\)/;
const TIMEOUT = /\((TIMEOUT|CONNECT_TIMEOUT|ETIMEDOUT)\)|not read: the overall --timeout/;
const FORBIDDEN = /: (unauthorized|forbidden)(:|$| after)/m;

export function gapReasonOf(e: unknown): { reason: GapReason; message: string } {
  const message = e instanceof InputError ? e.problem : e instanceof Error ? e.message : String(e);
  const line = (message.split("\n")[0] ?? "").trim();
  if (e instanceof InputError || e instanceof UsageError) {
    if (FORBIDDEN.test(line)) return { reason: "forbidden", message: line };
    if (TIMEOUT.test(line)) return { reason: "timeout", message: line };
    if (UNREACHABLE.test(line)) return { reason: "unreachable", message: line };
    if (/kubeconfig credentials|exec plugin/.test(line)) return { reason: "credentials", message: line };
  }
  return { reason: "error", message: line !== "" ? line : "failed without a message" };
}
