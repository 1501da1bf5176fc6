;; The line kernel: one SIMD pass over ASCII log bytes that finds every line and tells the bulk path
;; which lines need nothing but counting. Built into dist/src/logs/line-kernel.wasm by
;; scripts/build/wasm.ts; loaded and fed by src/logs/kernel.ts.
;;
;; A line is "ordinary" when the scanner's bulk path would only count it: a Felix record start
;; (`YYYY-MM-DD HH:MM:SS[.frac] [`), bare or inside a complete CRI line (`<RFC3339> stdout F <felix>`),
;; no longer than the line cap, without a CR, and holding no hit (a needle's literal). A line led by
;; a byte that no envelope or record start begins with (a lowercase letter, a tab, a space...) is
;; a "continuation"; a "[" line may be a Felix header without its timestamp and is "other". Every other line is reported as "other" and goes through the scanner's
;; per-line JS path, so the kernel only has to be right when it names a kind. The shape checks
;; mirror bytes.ts exactly, reading nothing at or past the line's "\n".
;;
;; Needle candidates come from a Teddy-style filter: per lane, the first three bytes are looked up in
;; nibble tables (i8x16.swizzle) that give the buckets (of up to 8) whose needles could start there;
;; a candidate is then confirmed against the bucket's needles (at most 4 bytes, masked compare), then
;; each of the needle's literals is compared in place; hits are written out for the JS side.
;;
;; Memory layout: src/logs/kernel-layout.ts defines it once. This file names its addresses and strides
;; as {{NAME}} or {{NAME+N}} (bytes past NAME); scripts/build/wasm.ts writes the numbers in before it
;; assembles the module, so this text is only valid WebAssembly after that step. In short:
;;   TABLES        Teddy tables: lo0 hi0 lo1 hi1 lo2 hi2, 16 bytes each; SCRATCH: this block's lane buckets
;;   BUCKET_SETS   bucket set (a byte) -> needles (u32 bit set)
;;   NEEDLES       1 << NEEDLE_SHIFT bytes each: pattern (u32 LE), mask (u32), length (u32), address of
;;                 its literals (u32 count, then LITERAL_BYTES per literal: needle offset in it, length,
;;                 address of bytes); LITERALS holds those lists and bytes
;;   RESULTS       out: runs written (+0), lines finished (+4), hits written (+8), 1 when hits did not fit (+12)
;;   RUNS          out: runs, RUN_BYTES each: first line's start, kind (0 other, 1 felix, 2 CRI felix,
;;                 3 continuation), index of that line among the call's lines
;;   HITS          out: hits, 1 << HIT_SHIFT bytes each: position, needle index (in position order)
;;   DATA          the data, followed by at least SLACK bytes (loads may read past the end)
(module
  (memory (export "memory") {{INITIAL_PAGES}})
  (global $cands (mut i32) (i32.const 0))
  (global $candCap (mut i32) (i32.const 0))
  (global $overflow (mut i32) (i32.const 0))

  ;; The kind of the line [ls, q) (q is its "\n") when it holds no hit: 0 other, 1 Felix record
  ;; start, 2 the same in a complete CRI line, 3 a plain continuation line. Checks the line's shape
  ;; as bytes.ts does (isoShapeBytes, startKindBytes, classifyCriBytes), inlined.
  (func $kind (param $ls i32) (param $q i32) (param $max i32) (result i32)
    (local $k i32)
    (local $c i32)
    (local $sp i32)
    (local $s i32)
    (block $other
      (br_if $other (i32.gt_u (i32.sub (local.get $q) (local.get $ls)) (local.get $max)))
      (if (i32.eq (local.get $q) (local.get $ls)) (then (return (i32.const 3))))
      (br_if $other (i32.eq (i32.load8_u (i32.sub (local.get $q) (i32.const 1))) (i32.const 13)))
      ;; A line led by anything but a digit, "{", "[" or a capital letter has no envelope and starts
      ;; no record (syslog and klog stamps start with capitals): it continues the record before it.
      ;; "[" may begin a Felix header without its timestamp: the JS path decides.
      (local.set $c (i32.load8_u (local.get $ls)))
      (if (i32.and
            (i32.ge_u (i32.sub (local.get $c) (i32.const 48)) (i32.const 10))
            (i32.and
              (i32.and (i32.ne (local.get $c) (i32.const 123)) (i32.ne (local.get $c) (i32.const 91)))
              (i32.ge_u (i32.sub (local.get $c) (i32.const 65)) (i32.const 26))))
        (then (return (i32.const 3))))
      ;; "[" and no capital after it (a BTF dump's `[25] DATASEC ...`) cannot be a Felix header.
      (if (i32.and
            (i32.eq (local.get $c) (i32.const 91))
            (i32.or
              (i32.le_u (local.get $q) (i32.add (local.get $ls) (i32.const 1)))
              (i32.ge_u (i32.sub (i32.load8_u offset=1 (local.get $ls)) (i32.const 65)) (i32.const 26))))
        (then (return (i32.const 3))))
      ;; `YYYY-MM-DD?HH:MM:SS`: "?" a space for a bare Felix header, "T" for a CRI envelope.
      (br_if $other (i32.ge_u (i32.add (local.get $ls) (i32.const 16)) (local.get $q)))
      (local.set $s (i32.load8_u offset=10 (local.get $ls)))
      (if (i32.eq (local.get $s) (i32.const 32))
        (then
          (block $plain
    ;; A Felix header at $ls: `YYYY-MM-DD HH:MM:SS[.frac] [`. The shortest one reads $ls+20.
    (br_if $plain (i32.ge_u (i32.add (local.get $ls) (i32.const 20)) (local.get $q)))
    (br_if $plain (i32.ge_u (i32.sub (i32.load8_u (local.get $ls)) (i32.const 48)) (i32.const 10)))
    (br_if $plain (i32.ne (i32.load8_u offset=4 (local.get $ls)) (i32.const 45)))
    (br_if $plain (i32.ne (i32.load8_u offset=7 (local.get $ls)) (i32.const 45)))
    (br_if $plain (i32.ne (i32.load8_u offset=10 (local.get $ls)) (i32.const 32)))
    (br_if $plain (i32.ne (i32.load8_u offset=13 (local.get $ls)) (i32.const 58)))
    (br_if $plain (i32.ne (i32.load8_u offset=16 (local.get $ls)) (i32.const 58)))
    (local.set $k (i32.add (local.get $ls) (i32.const 19)))
    (local.set $c (i32.load8_u (local.get $k)))
    (if (i32.or (i32.eq (local.get $c) (i32.const 46)) (i32.eq (local.get $c) (i32.const 44)))
      (then
        (local.set $k (i32.add (local.get $k) (i32.const 1)))
        (block $out
          (loop $digits
            (br_if $out (i32.ge_u (local.get $k) (local.get $q)))
            (br_if $out (i32.ge_u (i32.sub (i32.load8_u (local.get $k)) (i32.const 48)) (i32.const 10)))
            (local.set $k (i32.add (local.get $k) (i32.const 1)))
            (br $digits)))))
    (br_if $plain (i32.ge_u (i32.add (local.get $k) (i32.const 1)) (local.get $q)))
    (br_if $plain (i32.ne (i32.load16_u (local.get $k)) (i32.const 0x5b20)))
            (return (i32.const 1)))
          (return (i32.const 0))))
      (br_if $other (i32.ne (local.get $s) (i32.const 84)))
      (br_if $other (i32.ge_u (i32.sub (i32.load8_u (local.get $ls)) (i32.const 48)) (i32.const 10)))
      (br_if $other (i32.ne (i32.load8_u offset=4 (local.get $ls)) (i32.const 45)))
      (br_if $other (i32.ne (i32.load8_u offset=7 (local.get $ls)) (i32.const 45)))
      (br_if $other (i32.ne (i32.load8_u offset=13 (local.get $ls)) (i32.const 58)))
      (br_if $other (i32.ne (i32.load8_u offset=16 (local.get $ls)) (i32.const 58)))
      ;; CRI: `<stamp> std(out|err) F <message>`, the first space searched in [ls+19, ls+41].
      (local.set $k (i32.add (local.get $ls) (i32.const 19)))
      (block $found
        (loop $scan
          (br_if $other (i32.ge_u (local.get $k) (local.get $q)))
          (br_if $other (i32.gt_u (local.get $k) (i32.add (local.get $ls) (i32.const 41))))
          (br_if $found (i32.eq (i32.load8_u (local.get $k)) (i32.const 32)))
          (local.set $k (i32.add (local.get $k) (i32.const 1)))
          (br $scan)))
      (local.set $sp (local.get $k))
      (br_if $other (i32.gt_u (local.get $sp) (i32.add (local.get $ls) (i32.const 40))))
      ;; An empty message (sp+9 == q) cannot start a Felix record either.
      (br_if $other (i32.ge_u (i32.add (local.get $sp) (i32.const 9)) (local.get $q)))
      (br_if $other (i32.ne (i32.load8_u offset=1 (local.get $sp)) (i32.const 115)))
      (br_if $other (i32.ne (i32.load8_u offset=2 (local.get $sp)) (i32.const 116)))
      (br_if $other (i32.ne (i32.load8_u offset=3 (local.get $sp)) (i32.const 100)))
      (local.set $c (i32.load8_u offset=4 (local.get $sp)))
      (br_if $other (i32.and (i32.ne (local.get $c) (i32.const 111)) (i32.ne (local.get $c) (i32.const 101))))
      (br_if $other (i32.ne (i32.load8_u offset=7 (local.get $sp)) (i32.const 32)))
      ;; "P" (a partial line) is joined by the JS path.
      (br_if $other (i32.ne (i32.load8_u offset=8 (local.get $sp)) (i32.const 70)))
      (br_if $other (i32.ne (i32.load8_u offset=9 (local.get $sp)) (i32.const 32)))
      (local.set $sp (i32.add (local.get $sp) (i32.const 10)))
    ;; A Felix header at $sp: `YYYY-MM-DD HH:MM:SS[.frac] [`. The shortest one reads $sp+20.
    (br_if $other (i32.ge_u (i32.add (local.get $sp) (i32.const 20)) (local.get $q)))
    (br_if $other (i32.ge_u (i32.sub (i32.load8_u (local.get $sp)) (i32.const 48)) (i32.const 10)))
    (br_if $other (i32.ne (i32.load8_u offset=4 (local.get $sp)) (i32.const 45)))
    (br_if $other (i32.ne (i32.load8_u offset=7 (local.get $sp)) (i32.const 45)))
    (br_if $other (i32.ne (i32.load8_u offset=10 (local.get $sp)) (i32.const 32)))
    (br_if $other (i32.ne (i32.load8_u offset=13 (local.get $sp)) (i32.const 58)))
    (br_if $other (i32.ne (i32.load8_u offset=16 (local.get $sp)) (i32.const 58)))
    (local.set $k (i32.add (local.get $sp) (i32.const 19)))
    (local.set $c (i32.load8_u (local.get $k)))
    (if (i32.or (i32.eq (local.get $c) (i32.const 46)) (i32.eq (local.get $c) (i32.const 44)))
      (then
        (local.set $k (i32.add (local.get $k) (i32.const 1)))
        (block $out
          (loop $digits
            (br_if $out (i32.ge_u (local.get $k) (local.get $q)))
            (br_if $out (i32.ge_u (i32.sub (i32.load8_u (local.get $k)) (i32.const 48)) (i32.const 10)))
            (local.set $k (i32.add (local.get $k) (i32.const 1)))
            (br $digits)))))
    (br_if $other (i32.ge_u (i32.add (local.get $k) (i32.const 1)) (local.get $q)))
    (br_if $other (i32.ne (i32.load16_u (local.get $k)) (i32.const 0x5b20)))
      (return (i32.const 2)))
    (i32.const 0))

  ;; Whether one of needle n's literals holds the needle at p and lies wholly in [lo, end).
  (func $literalAt (param $n i32) (param $p i32) (param $lo i32) (param $end i32) (result i32)
    (local $t i32)
    (local $count i32)
    (local $s i32)
    (local $len i32)
    (local $bytes i32)
    (local $i i32)
    (local.set $t (i32.load offset=12 (i32.add (i32.const {{NEEDLES}}) (i32.shl (local.get $n) (i32.const {{NEEDLE_SHIFT}})))))
    (local.set $count (i32.load (local.get $t)))
    (local.set $t (i32.add (local.get $t) (i32.const 4)))
    (block $none
      (loop $targets
        (br_if $none (i32.eqz (local.get $count)))
        (local.set $s (i32.sub (local.get $p) (i32.load (local.get $t))))
        (local.set $len (i32.load offset=4 (local.get $t)))
        (local.set $bytes (i32.load offset=8 (local.get $t)))
        (local.set $t (i32.add (local.get $t) (i32.const {{LITERAL_BYTES}})))
        (local.set $count (i32.sub (local.get $count) (i32.const 1)))
        (br_if $targets (i32.lt_s (local.get $s) (local.get $lo)))
        (br_if $targets (i32.gt_u (i32.add (local.get $s) (local.get $len)) (local.get $end)))
        (local.set $i (i32.const 0))
        (block $differs
          (loop $bytes
            (if (i32.ge_u (local.get $i) (local.get $len)) (then (return (i32.const 1))))
            (br_if $differs
              (i32.ne
                (i32.load8_u (i32.add (local.get $s) (local.get $i)))
                (i32.load8_u (i32.add (local.get $bytes) (local.get $i)))))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $bytes)))
        (br $targets)))
    (i32.const 0))

  ;; Records each needle of the buckets in `buckets` whose literal occurs at p (within [lo, end)) as
  ;; a hit (p, needle), while there is room; returns whether any did.
  (func $confirm (param $p i32) (param $buckets i32) (param $lo i32) (param $end i32) (result i32)
    (local $set i32)
    (local $n i32)
    (local $a i32)
    (local $any i32)
    (local.set $set (i32.load offset={{BUCKET_SETS}} (i32.shl (local.get $buckets) (i32.const 2))))
    (block $none
      (loop $each
        (br_if $none (i32.eqz (local.get $set)))
        (local.set $n (i32.ctz (local.get $set)))
        (local.set $a (i32.add (i32.const {{NEEDLES}}) (i32.shl (local.get $n) (i32.const {{NEEDLE_SHIFT}}))))
        (local.set $set (i32.and (local.get $set) (i32.sub (local.get $set) (i32.const 1))))
        (if (i32.le_u (i32.add (local.get $p) (i32.load offset=8 (local.get $a))) (local.get $end))
          (then
            (if (i32.and
                  (i32.eq
                    (i32.and (i32.load (local.get $p)) (i32.load offset=4 (local.get $a)))
                    (i32.load (local.get $a)))
                  (call $literalAt (local.get $n) (local.get $p) (local.get $lo) (local.get $end)))
              (then
                (local.set $any (i32.const 1))
                (if (i32.lt_u (global.get $cands) (global.get $candCap))
                  (then
                    (local.set $a (i32.add (i32.const {{HITS}}) (i32.shl (global.get $cands) (i32.const {{HIT_SHIFT}}))))
                    (i32.store (local.get $a) (local.get $p))
                    (i32.store offset=4 (local.get $a) (local.get $n))
                    (global.set $cands (i32.add (global.get $cands) (i32.const 1))))
                  (else (global.set $overflow (i32.const 1))))))))
        (br $each)))
    (local.get $any))

  ;; Classifies the lines of [start, end) (start is a line start, end just past a "\n") and writes a
  ;; run for each line whose kind differs from the line before. Stops after `cap` runs. Returns where
  ;; it stopped: the start of the first line not classified (end when all were).
  (func (export "classify")
    (param $start i32) (param $end i32) (param $max i32) (param $cap i32) (param $ccap i32) (result i32)
    (local $base i32)
    (local $ls i32)
    (local $hot i32)
    (local $prev i32)
    (local $runs i32)
    (local $lines i32)
    (local $nlm i32)
    (local $cm i32)
    (local $ev i32)
    (local $bit i32)
    (local $p i32)
    (local $k i32)
    (local $valid i32)
    (local $out i32)
    (local $v0 v128)
    (local $v1 v128)
    (local $v2 v128)
    (local $m v128)
    (local $lo0 v128)
    (local $hi0 v128)
    (local $lo1 v128)
    (local $hi1 v128)
    (local $lo2 v128)
    (local $hi2 v128)
    (local $nib v128)
    (local $nl v128)
    (local.set $lo0 (v128.load (i32.const {{TABLES}})))
    (local.set $hi0 (v128.load (i32.const {{TABLES+16}})))
    (local.set $lo1 (v128.load (i32.const {{TABLES+32}})))
    (local.set $hi1 (v128.load (i32.const {{TABLES+48}})))
    (local.set $lo2 (v128.load (i32.const {{TABLES+64}})))
    (local.set $hi2 (v128.load (i32.const {{TABLES+80}})))
    (local.set $nib (i8x16.splat (i32.const 15)))
    (local.set $nl (i8x16.splat (i32.const 10)))
    (global.set $cands (i32.const 0))
    (global.set $candCap (local.get $ccap))
    (global.set $overflow (i32.const 0))
    (local.set $base (local.get $start))
    (local.set $ls (local.get $start))
    (local.set $prev (i32.const -1))
    (block $done
      (loop $blocks
        (br_if $done (i32.ge_u (local.get $base) (local.get $end)))
        ;; 32 bytes per round, as two 16-byte halves whose masks are joined into one 32-bit mask.
        (local.set $v0 (v128.load (local.get $base)))
        (local.set $v1 (v128.load offset=1 (local.get $base)))
        (local.set $v2 (v128.load offset=2 (local.get $base)))
        (local.set $m (v128.and
          (v128.and
            (v128.and
              (i8x16.swizzle (local.get $lo0) (v128.and (local.get $v0) (local.get $nib)))
              (i8x16.swizzle (local.get $hi0) (v128.and (i16x8.shr_u (local.get $v0) (i32.const 4)) (local.get $nib))))
            (v128.and
              (i8x16.swizzle (local.get $lo1) (v128.and (local.get $v1) (local.get $nib)))
              (i8x16.swizzle (local.get $hi1) (v128.and (i16x8.shr_u (local.get $v1) (i32.const 4)) (local.get $nib)))))
          (v128.and
            (i8x16.swizzle (local.get $lo2) (v128.and (local.get $v2) (local.get $nib)))
            (i8x16.swizzle (local.get $hi2) (v128.and (i16x8.shr_u (local.get $v2) (i32.const 4)) (local.get $nib))))))
        (local.set $nlm (i8x16.bitmask (i8x16.eq (local.get $v0) (local.get $nl))))
        (local.set $cm (i8x16.bitmask (i8x16.eq (local.get $m) (v128.const i64x2 0 0))))
        (v128.store (i32.const {{SCRATCH}}) (local.get $m))
        (local.set $v0 (v128.load offset=16 (local.get $base)))
        (local.set $v1 (v128.load offset=17 (local.get $base)))
        (local.set $v2 (v128.load offset=18 (local.get $base)))
        (local.set $m (v128.and
          (v128.and
            (v128.and
              (i8x16.swizzle (local.get $lo0) (v128.and (local.get $v0) (local.get $nib)))
              (i8x16.swizzle (local.get $hi0) (v128.and (i16x8.shr_u (local.get $v0) (i32.const 4)) (local.get $nib))))
            (v128.and
              (i8x16.swizzle (local.get $lo1) (v128.and (local.get $v1) (local.get $nib)))
              (i8x16.swizzle (local.get $hi1) (v128.and (i16x8.shr_u (local.get $v1) (i32.const 4)) (local.get $nib)))))
          (v128.and
            (i8x16.swizzle (local.get $lo2) (v128.and (local.get $v2) (local.get $nib)))
            (i8x16.swizzle (local.get $hi2) (v128.and (i16x8.shr_u (local.get $v2) (i32.const 4)) (local.get $nib))))))
        (local.set $nlm (i32.or (local.get $nlm)
          (i32.shl (i8x16.bitmask (i8x16.eq (local.get $v0) (local.get $nl))) (i32.const 16))))
        (local.set $cm (i32.xor (i32.const -1) (i32.or (local.get $cm)
          (i32.shl (i8x16.bitmask (i8x16.eq (local.get $m) (v128.const i64x2 0 0))) (i32.const 16)))))
        (v128.store (i32.const {{SCRATCH+16}}) (local.get $m))
        (local.set $valid (i32.sub (local.get $end) (local.get $base)))
        (if (i32.lt_u (local.get $valid) (i32.const 32))
          (then
            (local.set $k (i32.sub (i32.shl (i32.const 1) (local.get $valid)) (i32.const 1)))
            (local.set $nlm (i32.and (local.get $nlm) (local.get $k)))
            (local.set $cm (i32.and (local.get $cm) (local.get $k)))))
        (local.set $ev (i32.or (local.get $nlm) (local.get $cm)))
        (block $events_done
          (loop $events
            (br_if $events_done (i32.eqz (local.get $ev)))
            (local.set $bit (i32.ctz (local.get $ev)))
            (local.set $ev (i32.and (local.get $ev) (i32.sub (local.get $ev) (i32.const 1))))
            (local.set $p (i32.add (local.get $base) (local.get $bit)))
            ;; Every hit is kept, also in a line already hot: the per-line path wants them all.
            (if (i32.and (i32.shr_u (local.get $cm) (local.get $bit)) (i32.const 1))
              (then
                (local.set $hot (i32.or (local.get $hot)
                  (call $confirm (local.get $p) (i32.load8_u offset={{SCRATCH}} (local.get $bit)) (local.get $start) (local.get $end))))))
            (if (i32.and (i32.shr_u (local.get $nlm) (local.get $bit)) (i32.const 1))
              (then
                (local.set $k
                  (if (result i32) (local.get $hot)
                    (then (i32.const 0))
                    (else (call $kind (local.get $ls) (local.get $p) (local.get $max)))))
                (if (i32.ne (local.get $k) (local.get $prev))
                  (then
                    (local.set $out (i32.add (i32.const {{RUNS}}) (i32.mul (local.get $runs) (i32.const {{RUN_BYTES}}))))
                    (i32.store (local.get $out) (local.get $ls))
                    (i32.store offset=4 (local.get $out) (local.get $k))
                    (i32.store offset=8 (local.get $out) (local.get $lines))
                    (local.set $runs (i32.add (local.get $runs) (i32.const 1)))
                    (local.set $prev (local.get $k))))
                (local.set $lines (i32.add (local.get $lines) (i32.const 1)))
                (local.set $ls (i32.add (local.get $p) (i32.const 1)))
                (local.set $hot (i32.const 0))
                (br_if $done (i32.ge_u (local.get $runs) (local.get $cap)))
                (br_if $done (global.get $overflow))))
            (br $events)))
        (local.set $base (i32.add (local.get $base) (i32.const 32)))
        (br $blocks)))
    (i32.store (i32.const {{RESULTS}}) (local.get $runs))
    (i32.store (i32.const {{RESULTS+4}}) (local.get $lines))
    (i32.store (i32.const {{RESULTS+8}}) (global.get $cands))
    (i32.store (i32.const {{RESULTS+12}}) (global.get $overflow))
    (local.get $ls))
)
