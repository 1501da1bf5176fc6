// Deterministic identifiers for generated bundles: every uid, hash suffix and digest is derived from
// the bundle's seed and the object's identity, so two runs produce the same bytes.

import { createHash } from "node:crypto";

export function hashHex(...parts: (string | number)[]): string {
  return createHash("sha256").update(parts.join("\u0000")).digest("hex");
}

/** A version-4-shaped UUID derived from the parts. */
export function uid(...parts: (string | number)[]): string {
  const h = hashHex("uid", ...parts);
  return [h.slice(0, 8), h.slice(8, 12), `4${h.slice(13, 16)}`, `a${h.slice(17, 20)}`, h.slice(20, 32)].join(
    "-",
  );
}

// The alphabet Kubernetes uses for generated name suffixes (no vowels, no easily confused digits).
const SUFFIX_ALPHABET = "bcdfghjklmnpqrstvwxz2456789";

/** A generated-name suffix (DaemonSet pods use 5 characters, pod-template-hash 9 or 10). */
export function suffix(length: number, ...parts: (string | number)[]): string {
  const h = hashHex("suffix", ...parts);
  let out = "";
  for (let i = 0; i < length; i++) {
    const byte = Number.parseInt(h.slice(i * 2, i * 2 + 2), 16);
    out += SUFFIX_ALPHABET[byte % SUFFIX_ALPHABET.length] ?? "b";
  }
  return out;
}

export function sha256Digest(...parts: (string | number)[]): string {
  return `sha256:${hashHex("digest", ...parts)}`;
}
