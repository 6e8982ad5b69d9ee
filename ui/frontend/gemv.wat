;; The decoder's one hot loop in WebAssembly SIMD (decoder.js uses it where the browser has it):
;; y[r] += W[r, :] . x for r < rows, W row-major with `cols` columns; pointers are byte offsets
;; into the imported memory, `cols` counts floats. Two 4-lane accumulators over 8 columns at a
;; time, then the rest one by one. Rebuild ui/frontend/gemv_wasm.js with scripts/build_wasm.sh.
(module
  (import "env" "memory" (memory 1))
  (func (export "gemv")
    (param $w i32) (param $x i32) (param $y i32) (param $rows i32) (param $cols i32)
    (local $r i32) (local $c i32) (local $row i32) (local $wide i32)
    (local $acc0 v128) (local $acc1 v128) (local $sum f32) (local $at i32)
    (local.set $wide (i32.and (local.get $cols) (i32.const -8)))
    (local.set $row (local.get $w))
    (block $rows_done
      (loop $each_row
        (br_if $rows_done (i32.ge_u (local.get $r) (local.get $rows)))
        (local.set $acc0 (v128.const f32x4 0 0 0 0))
        (local.set $acc1 (v128.const f32x4 0 0 0 0))
        (local.set $c (i32.const 0))
        (block $wide_done
          (loop $eight
            (br_if $wide_done (i32.ge_u (local.get $c) (local.get $wide)))
            (local.set $at (i32.shl (local.get $c) (i32.const 2)))
            (local.set $acc0 (f32x4.add (local.get $acc0) (f32x4.mul
              (v128.load (i32.add (local.get $row) (local.get $at)))
              (v128.load (i32.add (local.get $x) (local.get $at))))))
            (local.set $acc1 (f32x4.add (local.get $acc1) (f32x4.mul
              (v128.load offset=16 (i32.add (local.get $row) (local.get $at)))
              (v128.load offset=16 (i32.add (local.get $x) (local.get $at))))))
            (local.set $c (i32.add (local.get $c) (i32.const 8)))
            (br $eight)))
        (local.set $acc0 (f32x4.add (local.get $acc0) (local.get $acc1)))
        (local.set $sum (f32.add
          (f32.add (f32x4.extract_lane 0 (local.get $acc0)) (f32x4.extract_lane 1 (local.get $acc0)))
          (f32.add (f32x4.extract_lane 2 (local.get $acc0)) (f32x4.extract_lane 3 (local.get $acc0)))))
        (block $rest_done
          (loop $one
            (br_if $rest_done (i32.ge_u (local.get $c) (local.get $cols)))
            (local.set $at (i32.shl (local.get $c) (i32.const 2)))
            (local.set $sum (f32.add (local.get $sum) (f32.mul
              (f32.load (i32.add (local.get $row) (local.get $at)))
              (f32.load (i32.add (local.get $x) (local.get $at))))))
            (local.set $c (i32.add (local.get $c) (i32.const 1)))
            (br $one)))
        (local.set $at (i32.add (local.get $y) (i32.shl (local.get $r) (i32.const 2))))
        (f32.store (local.get $at) (f32.add (f32.load (local.get $at)) (local.get $sum)))
        (local.set $row (i32.add (local.get $row) (i32.shl (local.get $cols) (i32.const 2))))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $each_row)))))
