;; A guest that records what went wrong where bxwasm_last_error finds it,
;; then traps, as a guest that cannot catch its panics does. The request's
;; op byte picks what bxwasm_call does:
;;
;;   1  record the ErrorInfo at 256 (message "boom", stack "at f", step
;;      index 2, key "bad"), then trap
;;   2  trap with nothing recorded (bxwasm_last_error returns 0)
;;   3  record a pointer outside memory, then trap
;;   4  record the ErrorInfo cut short after its stack, then trap
;;   5  answer StatusError with the same ErrorInfo (status byte at 255)
;;   6  record the ErrorInfo, then trap; bxwasm_last_error traps too
;;   7  record the ErrorInfo, then exit with code 3 (the module closes)
;;   else  answer an empty OK response (the 0 at address 0)
(module
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 1)
  (global $last (mut i64) (i64.const 0))
  (global $again (mut i32) (i32.const 0))
  ;; 01 | 04 "boom" | 04 "at f" | 03 | 01 | 03 "bad"
  (data (i32.const 255) "\01\04boom\04at f\03\01\03bad")
  (func (export "bxwasm_abi_version") (result i32) (i32.const 1))
  (func (export "bxwasm_buffer") (param i32) (result i32) (i32.const 1024))
  (func $is (param $op i32) (result i32) (i32.eq (i32.load8_u (i32.const 1024)) (local.get $op)))
  (func (export "bxwasm_call") (param i32) (result i64)
    (if (call $is (i32.const 1)) (then (global.set $last (i64.const 0x0000010000000010)) (unreachable)))
    (if (call $is (i32.const 2)) (then (unreachable)))
    (if (call $is (i32.const 3)) (then (global.set $last (i64.const 0xffff000000000010)) (unreachable)))
    (if (call $is (i32.const 4)) (then (global.set $last (i64.const 0x000001000000000a)) (unreachable)))
    (if (call $is (i32.const 5)) (then (return (i64.const 0x000000ff00000011))))
    (if (call $is (i32.const 6))
      (then (global.set $last (i64.const 0x0000010000000010)) (global.set $again (i32.const 1)) (unreachable)))
    (if (call $is (i32.const 7)) (then (global.set $last (i64.const 0x0000010000000010)) (call $exit (i32.const 3))))
    (i64.const 1))
  (func (export "bxwasm_last_error") (result i64)
    (if (global.get $again) (then (unreachable)))
    (global.get $last)))
