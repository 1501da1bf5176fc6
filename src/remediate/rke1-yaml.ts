// Text-preserving edits of an RKE `cluster.yml` (or Rancher's cluster spec). The yaml Document API
// locates nodes and their source ranges; the edit splices only those ranges, so every byte outside
// the changed scalars and the inserted lines (comments, key order, quoting, blank lines) is kept.

import { isMap, isPair, isScalar, parseDocument, Scalar, type Node, type Pair, type YAMLMap } from "yaml";

interface Splice {
  start: number;
  end: number;
  text: string;
}

export interface YamlEditResult {
  text: string;
  /** Keys whose value changed or that were added. */
  changed: string[];
}

export class YamlEditError extends Error {}

type AnyPair = Pair;

function keyName(p: AnyPair): string | undefined {
  return isScalar(p.key) && typeof p.key.value === "string" ? p.key.value : undefined;
}

function findPair(map: YAMLMap, key: string): AnyPair | undefined {
  return map.items.find((p): p is AnyPair => isPair(p) && keyName(p) === key);
}

function columnOf(text: string, offset: number): number {
  return offset - (text.lastIndexOf("\n", offset - 1) + 1);
}

function nodeRange(n: unknown): [number, number, number] | undefined {
  const r = (n as Node | null | undefined)?.range;
  return r ?? undefined;
}

function renderScalar(value: string, like: Scalar | undefined): string {
  const style = like?.type;
  if (style === Scalar.QUOTE_DOUBLE) return JSON.stringify(value);
  if (style === Scalar.QUOTE_SINGLE) return `'${value.replace(/'/g, "''")}'`;
  return value;
}

/** End offset of a map's last pair's value (or key, for empty values). */
function mapEnd(map: YAMLMap): number {
  const last = map.items[map.items.length - 1];
  const r = nodeRange(last?.value) ?? nodeRange(last?.key);
  if (r === undefined) throw new YamlEditError("cannot locate the end of a mapping");
  return r[1];
}

function keyColumn(text: string, map: YAMLMap): number {
  const r = nodeRange(map.items[0]?.key);
  if (r === undefined) throw new YamlEditError("cannot locate a mapping's keys");
  return columnOf(text, r[0]);
}

function insertionPoint(text: string, offset: number): { at: number; prefix: string } {
  const nl = text.indexOf("\n", offset);
  if (nl === -1) return { at: text.length, prefix: "\n" };
  return { at: nl + 1, prefix: "" };
}

function linesFor(entries: [string, string][], indent: number): string {
  return entries.map(([k, v]) => `${" ".repeat(indent)}${k}: ${v}\n`).join("");
}

function editExistingMap(
  text: string,
  map: YAMLMap,
  wanted: [string, string][],
  splices: Splice[],
): string[] {
  const changed: string[] = [];
  const missing: [string, string][] = [];
  for (const [key, value] of wanted) {
    const pair = findPair(map, key);
    if (pair === undefined) {
      missing.push([key, value]);
      continue;
    }
    const current = isScalar(pair.value) ? pair.value : undefined;
    if (current?.value === value) continue;
    const r = nodeRange(pair.value);
    if (current === undefined || r === undefined)
      throw new YamlEditError(`system_images.${key} is not a plain string value`);
    splices.push({ start: r[0], end: r[1], text: renderScalar(value, current) });
    changed.push(key);
  }
  if (missing.length > 0) {
    const { at, prefix } = insertionPoint(text, mapEnd(map));
    splices.push({ start: at, end: at, text: prefix + linesFor(missing, keyColumn(text, map)) });
    changed.push(...missing.map(([k]) => k));
  }
  return changed;
}

function replaceEmptyValue(
  text: string,
  pair: AnyPair,
  wanted: [string, string][],
  splices: Splice[],
): string[] {
  const keyR = nodeRange(pair.key);
  if (keyR === undefined) throw new YamlEditError("cannot locate system_images");
  const valueR = nodeRange(pair.value);
  if (valueR !== undefined && valueR[1] > valueR[0])
    splices.push({ start: valueR[0], end: valueR[1], text: "" });
  const { at, prefix } = insertionPoint(text, valueR?.[1] ?? keyR[1]);
  splices.push({ start: at, end: at, text: prefix + linesFor(wanted, columnOf(text, keyR[0]) + 2) });
  return wanted.map(([k]) => k);
}

function applySplices(text: string, splices: Splice[]): string {
  let out = text;
  for (const s of [...splices].sort((a, b) => b.start - a.start))
    out = out.slice(0, s.start) + s.text + out.slice(s.end);
  return out;
}

/** The mapping RKE options live in: the root, or rancher_kubernetes_engine_config under it. */
function rkeMapping(root: unknown, rancher: boolean): YAMLMap {
  if (!isMap(root)) throw new YamlEditError("the file is not a YAML mapping");
  if (!rancher) return root;
  const inner = findPair(root, "rancher_kubernetes_engine_config")?.value;
  if (!isMap(inner) || inner.flow === true)
    throw new YamlEditError("rancher_kubernetes_engine_config is not a block mapping");
  return inner;
}

/**
 * Sets `system_images.<key>` for every wanted entry, keeping everything else byte for byte.
 * `rancher` selects `rancher_kubernetes_engine_config.system_images`.
 */
export function setSystemImages(text: string, wanted: [string, string][], rancher: boolean): YamlEditResult {
  const doc = parseDocument(text);
  if (doc.errors.length > 0)
    throw new YamlEditError(`malformed YAML: ${doc.errors[0]?.message.split("\n")[0] ?? ""}`);
  const rke = rkeMapping(doc.contents, rancher);
  const splices: Splice[] = [];
  const pair = findPair(rke, "system_images");
  let changed: string[];
  if (pair === undefined) {
    const { at, prefix } = insertionPoint(text, mapEnd(rke));
    const indent = rke.items.length > 0 ? keyColumn(text, rke) : 0;
    splices.push({
      start: at,
      end: at,
      text: `${prefix}${" ".repeat(indent)}system_images:\n${linesFor(wanted, indent + 2)}`,
    });
    changed = wanted.map(([k]) => k);
  } else if (isMap(pair.value) && pair.value.flow !== true && pair.value.items.length > 0) {
    changed = editExistingMap(text, pair.value, wanted, splices);
  } else if (
    pair.value === null ||
    (isScalar(pair.value) && pair.value.value === null) ||
    isMap(pair.value)
  ) {
    if (isMap(pair.value) && pair.value.items.length > 0)
      throw new YamlEditError("system_images is a flow mapping; rewrite it as a block mapping first");
    changed = replaceEmptyValue(text, pair, wanted, splices);
  } else {
    throw new YamlEditError("system_images is not a mapping");
  }
  return { text: applySplices(text, splices), changed };
}

/** Sets the top-level (or Rancher-nested) kubernetes_version scalar, keeping everything else. */
export function setKubernetesVersion(text: string, version: string, rancher: boolean): string {
  const doc = parseDocument(text);
  if (doc.errors.length > 0) throw new YamlEditError("malformed YAML");
  const rke = rkeMapping(doc.contents, rancher);
  const pair = findPair(rke, "kubernetes_version");
  const r = nodeRange(pair?.value);
  if (pair === undefined || r === undefined || !isScalar(pair.value)) {
    const { at, prefix } = insertionPoint(text, mapEnd(rke));
    const indent = rke.items.length > 0 ? keyColumn(text, rke) : 0;
    return applySplices(text, [
      { start: at, end: at, text: `${prefix}${" ".repeat(indent)}kubernetes_version: ${version}\n` },
    ]);
  }
  return applySplices(text, [{ start: r[0], end: r[1], text: renderScalar(version, pair.value) }]);
}
