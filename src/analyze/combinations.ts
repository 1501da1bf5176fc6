// Evidence that no single signature decides: a Felix record cut before its libbpf detail, or the
// one record Felix logs at start-up. The advisory's `combinations` say what such evidence means
// together with the version evidence; this module only evaluates them, in order.

import type { Advisory, Combination, SignatureSelector, VersionEvidence } from "../model/advisory.js";
import type { SignalStat } from "../model/logs.js";
import type { SymptomSummary } from "./symptoms.js";
import { componentEcosystem } from "../versions/index.js";

/** The version evidence for one subject, with the candidate versions it rests on. */
export interface VersionFacts {
  evidence: VersionEvidence;
  /** Candidate versions (from the image, else from the fingerprints). */
  candidates: string[];
  /** The candidates that are affected. */
  affected: string[];
}

function affectedList(advisory: Advisory): string[] {
  const ecosystem = componentEcosystem(advisory.component);
  return advisory.affected.find((a) => a.ecosystem === ecosystem)?.versions ?? [];
}

/** Classifies candidate versions against the advisory's affected versions of its component. */
export function classifyVersions(advisory: Advisory, candidates: string[]): VersionFacts {
  const list = affectedList(advisory);
  const affected = candidates.filter((v) => list.includes(v));
  const evidence: VersionEvidence =
    candidates.length === 0
      ? "unknown"
      : affected.length === candidates.length
        ? "affected"
        : affected.length === 0
          ? "excluded"
          : "consistent";
  return { evidence, candidates, affected };
}

/**
 * The version evidence of a subject: the running image decides when it was read (in-range or
 * out-of-range), else the fingerprints.
 */
export function versionFacts(
  advisory: Advisory,
  image: { verdict: "in-range" | "out-of-range" | "unknown"; text?: string },
  fingerprintVersions: string[],
): VersionFacts {
  if (image.verdict !== "unknown" && image.text !== undefined) {
    const v = image.text.startsWith("v") ? image.text : `v${image.text}`;
    return {
      evidence: image.verdict === "in-range" ? "affected" : "excluded",
      candidates: [v],
      affected: image.verdict === "in-range" ? [v] : [],
    };
  }
  return classifyVersions(advisory, fingerprintVersions);
}

function allStats(sym: SymptomSummary): SignalStat[] {
  return [...sym.symptom, ...sym.corroborating, ...sym.context, ...sym.lookalike];
}

function selected(stats: SignalStat[], sel: SignatureSelector): SignalStat[] {
  return stats.filter(
    (s) =>
      s.count > 0 && ((sel.signatures ?? []).includes(s.signatureId) || (sel.roles ?? []).includes(s.role)),
  );
}

export interface CombinationMatch {
  combination: Combination;
  status: Combination["status"];
  reason: string;
  /** The remaining doubt, when the advisory names one. */
  doubt?: string;
  /** The signatures that made the rule apply. */
  signatures: string[];
}

function fill(text: string, values: Record<string, string>): string {
  return text.replace(/\{([a-zA-Z]+)\}/g, (whole, key: string) => values[key] ?? whole);
}

/** The first of the advisory's combinations that applies, if any. */
export function matchCombination(
  advisory: Advisory,
  sym: SymptomSummary,
  version: VersionFacts,
): CombinationMatch | undefined {
  const stats = allStats(sym);
  for (const c of advisory.combinations ?? []) {
    if (c.version !== undefined && !c.version.includes(version.evidence)) continue;
    const seen = selected(stats, c.seen);
    if (seen.length === 0) continue;
    if (c.notSeen !== undefined && selected(stats, c.notSeen).length > 0) continue;
    const values = {
      count: String(seen.reduce((n, s) => n + s.count, 0)),
      signatures: seen.map((s) => s.signatureId).join(", "),
      versions: version.candidates.length > 0 ? version.candidates.join(", ") : "none",
      affectedVersions: version.affected.length > 0 ? version.affected.join(", ") : "none",
    };
    return {
      combination: c,
      status: c.status,
      reason: fill(c.reason, values),
      ...(c.doubt !== undefined ? { doubt: fill(c.doubt, values) } : {}),
      signatures: seen.map((s) => s.signatureId),
    };
  }
  return undefined;
}
