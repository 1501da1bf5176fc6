// Reads the `items` of a big JSON List without ever holding the document as one string: V8 strings
// stop at ~512 MiB, and a 600 MB pods.json once aborted a whole scan. The bytes are scanned once,
// tracking strings and nesting; each element of the top-level `items` array is cut out and parsed
// on its own, so the peak is the parsed items plus one chunk, not the text twice over.

import type { FileHandle } from "node:fs/promises";

export class JsonItemsError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
  }
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_OBJ = 0x7b;
const CLOSE_OBJ = 0x7d;
const OPEN_ARR = 0x5b;
const CLOSE_ARR = 0x5d;
const COMMA = 0x2c;
const COLON = 0x3a;

/**
 * Incremental scanner: push() chunks, collect finished items; end() checks the document closed.
 * Only the top-level object's `items` array is split; any other top-level value is skipped.
 */
export class JsonItemsParser {
  private depth = 0;
  private inString = false;
  private escaped = false;
  private offset = 0;
  /** Bytes of the current top-level key (a string at depth 1), or undefined outside one. */
  private key: number[] | undefined;
  private lastKey = "";
  private expectingValue = false;
  private inItems = false;
  private sawItems = false;
  private done = false;
  /** Pieces of the current item (depth ≥ 2 inside `items`). */
  private item: Buffer[] = [];
  private itemStart = -1;
  private itemOpen = false;

  constructor(private readonly onItem: (item: unknown) => void) {}

  push(chunk: Buffer): void {
    this.itemStart = this.itemOpen ? 0 : -1;
    for (let i = 0; i < chunk.length; i++) this.step(chunk, i, chunk[i] as number, this.offset + i);
    if (this.itemOpen && this.itemStart >= 0) this.item.push(Buffer.from(chunk.subarray(this.itemStart)));
    this.offset += chunk.length;
  }

  private step(chunk: Buffer, i: number, b: number, at: number): void {
    if (this.done) {
      if (b > 0x20) throw new JsonItemsError("text after the end of the document", at);
    } else if (this.inString) this.stringByte(b);
    else if (b === QUOTE) {
      this.inString = true;
      if (this.depth === 1 && !this.expectingValue) this.key = [];
      else this.startItemAt(i);
    } else if (b === OPEN_OBJ || b === OPEN_ARR) this.open(i, b, at);
    else if (b === CLOSE_OBJ || b === CLOSE_ARR) this.close(chunk, i, at);
    else if (this.depth === 1 && b === COLON) this.expectingValue = true;
    else if (this.depth === 1 && b === COMMA) this.expectingValue = false;
    else if (this.inItems && this.depth === 2 && b === COMMA) this.finishItem(chunk, i);
    else if (b > 0x20) this.startItemAt(i);
  }

  private stringByte(b: number): void {
    if (this.key !== undefined && !(b === QUOTE && !this.escaped)) this.key.push(b);
    if (this.escaped) this.escaped = false;
    else if (b === BACKSLASH) this.escaped = true;
    else if (b === QUOTE) {
      this.inString = false;
      if (this.key !== undefined) {
        this.lastKey = Buffer.from(this.key).toString("utf8");
        this.key = undefined;
      }
    }
  }

  private open(i: number, b: number, at: number): void {
    if (this.depth === 0 && b !== OPEN_OBJ) throw new JsonItemsError("not a JSON object", at);
    if (this.depth === 1 && this.expectingValue && this.lastKey === "items") {
      if (b !== OPEN_ARR) throw new JsonItemsError("items is not an array", at);
      this.inItems = true;
      this.sawItems = true;
    } else this.startItemAt(i);
    this.depth++;
  }

  private close(chunk: Buffer, i: number, at: number): void {
    this.depth--;
    if (this.depth < 0) throw new JsonItemsError("unbalanced brackets", at);
    if (this.inItems && this.depth === 1) {
      this.finishItem(chunk, i);
      this.inItems = false;
    } else if (this.depth === 0) this.done = true;
    if (this.depth === 1) this.expectingValue = false;
  }

  end(): void {
    if (!this.done) throw new JsonItemsError("the document ends early (truncated?)", this.offset);
    if (!this.sawItems) throw new JsonItemsError("not a Kubernetes List (no items array)", this.offset);
  }

  private startItemAt(i: number): void {
    if (!this.inItems || this.depth !== 2 || this.itemOpen) return;
    this.itemOpen = true;
    this.itemStart = i;
    this.item = [];
  }

  /** The item ends just before index `i` of `chunk` (a comma or the closing bracket). */
  private finishItem(chunk: Buffer, i: number): void {
    if (!this.itemOpen) return;
    this.item.push(chunk.subarray(this.itemStart, i));
    const text = Buffer.concat(this.item).toString("utf8");
    this.item = [];
    this.itemOpen = false;
    this.itemStart = -1;
    try {
      this.onItem(JSON.parse(text) as unknown);
    } catch (e) {
      throw new JsonItemsError(`malformed item: ${(e as Error).message}`, this.offset + i);
    }
  }
}

/** Every object of the file's top-level `items` array, read in 1 MiB chunks. */
export async function readJsonItems(handle: FileHandle): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  const parser = new JsonItemsParser((item) => {
    if (typeof item === "object" && item !== null && !Array.isArray(item))
      items.push(item as Record<string, unknown>);
  });
  const buf = Buffer.allocUnsafe(1024 * 1024);
  for (;;) {
    const { bytesRead } = await handle.read(buf, 0, buf.length, null);
    if (bytesRead === 0) break;
    parser.push(buf.subarray(0, bytesRead));
  }
  parser.end();
  return items;
}
