// The line kernel's memory layout, defined once. kernel.ts reads it here; line-kernel.wat names it
// as `{{NAME}}` (or `{{NAME+N}}`) and scripts/build/wasm.ts writes the numbers in when it assembles
// the module, adding one exported global per entry (`layout.NAME`) so that the loader can refuse a
// .wasm built from another layout (see kernel.ts). All addresses are bytes in the kernel's memory.

export const KERNEL_LAYOUT = {
  /** Teddy nibble tables: lo0 hi0 lo1 hi1 lo2 hi2, 16 bytes each (96 bytes). */
  TABLES: 0,
  /** Scratch: the lane buckets of the current 32-byte block (32 bytes). */
  SCRATCH: 96,
  /** Bucket set (a byte) -> needles (u32 bit set): 256 entries of 4 bytes. */
  BUCKET_SETS: 256,
  /**
   * Needles, 1 << NEEDLE_SHIFT bytes each: pattern (u32 LE), mask (u32), length (u32), address of
   * its literal list in LITERALS (u32 count, then per literal: needle offset in it, length, address
   * of bytes).
   */
  NEEDLES: 1280,
  NEEDLE_SHIFT: 4,
  MAX_NEEDLES: 32,
  /**
   * Out, one i32 each: runs written by the last call (+0), lines it finished (+4), hits it wrote
   * (+8), 1 when the hits did not fit and the call stopped after that line (+12).
   */
  RESULTS: 2048,
  /** Out: runs, RUN_BYTES each: first line's start, kind (a RUN_* of scan-types.ts), index of that line among the call's lines. */
  RUNS: 4096,
  RUN_BYTES: 12,
  /** The needles' literal lists (LITERAL_BYTES per literal) and bytes, up to HITS. */
  LITERALS: 102400,
  LITERAL_BYTES: 12,
  /** Out: hits, 1 << HIT_SHIFT bytes each: position, needle index (in position order). */
  HITS: 131072,
  HIT_SHIFT: 3,
  /** The data, followed by at least SLACK bytes (the SIMD loads may read past its end). */
  DATA: 262144,
  SLACK: 64,
  /** The memory's size at instantiation, in 64 KiB pages (it grows with the data). */
  INITIAL_PAGES: 5,
} as const;

export type KernelLayoutName = keyof typeof KERNEL_LAYOUT;

/** Runs one call may write: as many as fit between RUNS and LITERALS. */
export const RUN_CAP = (KERNEL_LAYOUT.LITERALS - KERNEL_LAYOUT.RUNS) / KERNEL_LAYOUT.RUN_BYTES;

/** Hits one call may write: as many as fit between HITS and DATA. */
export const HIT_CAP = (KERNEL_LAYOUT.DATA - KERNEL_LAYOUT.HITS) >> KERNEL_LAYOUT.HIT_SHIFT;

/** The exported global of the assembled module that carries a layout entry. */
export function layoutExport(name: string): string {
  return `layout.${name}`;
}
