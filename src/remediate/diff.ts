// A small unified diff for plan previews: common prefix and suffix are trimmed, the middle is
// compared line by line (LCS), and changes are shown with three lines of context.

type Op = { kind: " " | "-" | "+"; line: string; a: number; b: number };

function splitLines(text: string): string[] {
  if (text === "") return [];
  const lines = text.split("\n");
  if (lines[lines.length - 1] === "") lines.pop();
  return lines;
}

function lcsOps(a: string[], b: string[], offset: number): Op[] {
  const n = a.length;
  const m = b.length;
  const table: Uint32Array[] = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
  for (let i = n - 1; i >= 0; i--) {
    const row = table[i] as Uint32Array;
    const next = table[i + 1] as Uint32Array;
    for (let j = m - 1; j >= 0; j--)
      row[j] = a[i] === b[j] ? (next[j + 1] ?? 0) + 1 : Math.max(next[j] ?? 0, row[j + 1] ?? 0);
  }
  const ops: Op[] = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[i] === b[j]) {
      ops.push({ kind: " ", line: a[i] ?? "", a: offset + i, b: offset + j });
      i++;
      j++;
    } else if (j < m && (i >= n || (table[i]?.[j + 1] ?? 0) > (table[i + 1]?.[j] ?? 0))) {
      ops.push({ kind: "+", line: b[j] ?? "", a: offset + i, b: offset + j });
      j++;
    } else {
      ops.push({ kind: "-", line: a[i] ?? "", a: offset + i, b: offset + j });
      i++;
    }
  }
  return ops;
}

function allOps(a: string[], b: string[]): Op[] {
  let pre = 0;
  while (pre < a.length && pre < b.length && a[pre] === b[pre]) pre++;
  let suf = 0;
  while (suf < a.length - pre && suf < b.length - pre && a[a.length - 1 - suf] === b[b.length - 1 - suf])
    suf++;
  const ops: Op[] = a.slice(0, pre).map((line, k) => ({ kind: " ", line, a: k, b: k }));
  ops.push(...lcsOps(a.slice(pre, a.length - suf), b.slice(pre, b.length - suf), pre));
  for (let k = 0; k < suf; k++) {
    const ai = a.length - suf + k;
    ops.push({ kind: " ", line: a[ai] ?? "", a: ai, b: b.length - suf + k });
  }
  return ops;
}

/** `--- a/label` / `+++ b/label` unified diff; empty string when the texts are equal. */
export function unifiedDiff(before: string, after: string, label: string, context = 3): string {
  if (before === after) return "";
  const ops = allOps(splitLines(before), splitLines(after));
  const changed = ops.map((o, k) => (o.kind === " " ? -1 : k)).filter((k) => k >= 0);
  // An absolute path keeps a single slash after the a/ and b/ prefixes (a/var/lib/…, as git writes).
  const path = label.replace(/^\/+/, "");
  const out = [`--- a/${path}`, `+++ b/${path}`];
  let k = 0;
  while (k < changed.length) {
    const first = changed[k] ?? 0;
    let last = first;
    while (k + 1 < changed.length && (changed[k + 1] ?? 0) - last <= 2 * context + 1)
      last = changed[++k] ?? last;
    k++;
    const from = Math.max(0, first - context);
    const to = Math.min(ops.length - 1, last + context);
    const hunk = ops.slice(from, to + 1);
    const aCount = hunk.filter((o) => o.kind !== "+").length;
    const bCount = hunk.filter((o) => o.kind !== "-").length;
    const start = hunk[0];
    out.push(`@@ -${(start?.a ?? 0) + 1},${aCount} +${(start?.b ?? 0) + 1},${bCount} @@`);
    for (const o of hunk) out.push(`${o.kind}${o.line}`);
  }
  return `${out.join("\n")}\n`;
}
