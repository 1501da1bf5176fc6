// Reads one `*List` document of a cluster-info dump (JSON, or YAML when dumped with -o yaml).
// Distinguishes "missing" from "broken" because they mean different things in coverage.

import { stat } from "node:fs/promises";
import { InputError } from "../../errors.js";
import { openInput, readInputBytes } from "../../io/open-input.js";
import { JsonItemsError, readJsonItems } from "./json-items.js";
import { parse as parseYaml } from "yaml";

export type ListRead =
  | { ok: true; items: Record<string, unknown>[]; path: string }
  | { ok: false; missing: boolean; path: string; problem: string };

/** Locates the JSON line/column of a parse failure so the message points somewhere useful. */
function jsonPosition(text: string, message: string): string {
  const m = /position (\d+)/.exec(message);
  if (!m) return "";
  const pos = Number(m[1]);
  const before = text.slice(0, pos);
  const line = before.split("\n").length;
  return ` at line ${line}`;
}

function isSingleObject(doc: unknown): doc is Record<string, unknown> {
  if (typeof doc !== "object" || doc === null || Array.isArray(doc)) return false;
  const o = doc as { kind?: unknown; metadata?: unknown; items?: unknown };
  return (
    typeof o.kind === "string" &&
    !o.kind.endsWith("List") &&
    typeof o.metadata === "object" &&
    o.items === undefined
  );
}

function looksBinary(buf: Buffer): boolean {
  return buf.subarray(0, 8192).includes(0);
}

/** JSON lists from this size on are read item by item (json-items.ts), never as one string. */
export const CHUNKED_FROM = 64 * 1024 * 1024;

async function readChunked(path: string): Promise<ListRead> {
  const { handle } = await openInput(path, "bundle list");
  try {
    return { ok: true, items: await readJsonItems(handle), path };
  } catch (e) {
    if (e instanceof JsonItemsError)
      return { ok: false, missing: false, path, problem: `malformed JSON at byte ${e.offset}: ${e.message}` };
    throw e;
  } finally {
    await handle.close();
  }
}

export async function readList(path: string, chunkedFrom = CHUNKED_FROM): Promise<ListRead> {
  let buf: Buffer;
  try {
    const st = await stat(path);
    if (st.isDirectory())
      return { ok: false, missing: false, path, problem: "is a directory, expected a file" };
    if (st.isFile() && st.size >= chunkedFrom && path.endsWith(".json")) return await readChunked(path);
    buf = await readInputBytes(path, "bundle list");
  } catch (e) {
    if (e instanceof InputError) return { ok: false, missing: false, path, problem: e.problem };
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return { ok: false, missing: true, path, problem: "not in the bundle" };
    return { ok: false, missing: false, path, problem: `cannot be read (${code ?? "error"})` };
  }
  if (looksBinary(buf)) return { ok: false, missing: false, path, problem: "binary data, not a JSON list" };
  const text = buf.toString("utf8");
  let doc: unknown;
  try {
    doc = path.endsWith(".yaml") || path.endsWith(".yml") ? parseYaml(text) : JSON.parse(text);
  } catch (e) {
    const msg = (e as Error).message;
    return {
      ok: false,
      missing: false,
      path,
      problem: `malformed ${path.endsWith(".json") ? "JSON" : "YAML"}${jsonPosition(text, msg)}: ${msg.split("\n")[0] ?? ""}`,
    };
  }
  if (isSingleObject(doc)) {
    // `kubectl get <kind> <name> -o json` saves one object, not a List: take it as a list of one.
    return { ok: true, items: [doc], path };
  }
  if (typeof doc !== "object" || doc === null || !Array.isArray((doc as { items?: unknown }).items)) {
    return { ok: false, missing: false, path, problem: "not a Kubernetes List (no items array)" };
  }
  const items = (doc as { items: unknown[] }).items.filter(
    (x): x is Record<string, unknown> => typeof x === "object" && x !== null,
  );
  return { ok: true, items, path };
}
