;; A guest that runs one flow through the host with canned answers and
;; fails in its stateful step on key "bad", in the ways a guest can. The
;; flow's name (the first letter of build's flow argument) picks the way:
;;
;;   status  answer stateful_batch with a StatusError (what the Go SDK does
;;           when user code panics)
;;   trap    record the same ErrorInfo for bxwasm_last_error, then trap
;;           (what an SDK does where panics abort: Rust, C, AssemblyScript)
;;   zero    trap with nothing recorded
;;   loop    record, trap, then loop forever in bxwasm_last_error
;;
;; Graph (as the Go guest loops' flow "fail" names its stateful step):
;;   0 fail.inp  input, guest-dynamic  -> stream 0
;;   1 fail.sum.stateful_flat_map.stateful.stateful_batch  stream 0 -> 1
;;   2 fail.out  output, stdout        <- stream 1
;; Its one source partition answers next_batch with the item ("bad", "x")
;; and EOF.
(module
  (memory (export "memory") 1)
  (global $mode (mut i32) (i32.const 0))
  (global $last (mut i64) (i64.const 0))
  ;; list_flows at 16, 28 bytes: status, trap, zero, loop, no parameters
  (data (i32.const 16) "\00\04" "\06status\00" "\04trap\00" "\04zero\00" "\04loop\00")
  ;; build at 64, 96 bytes: the graph above
  (data (i32.const 64) "\00" "\04fail" "\02" "\03"
    "\08fail.inp" "\01" "\00" "\01\00" "\02" "\00"
    "\32fail.sum.stateful_flat_map.stateful.stateful_batch" "\08" "\01\00" "\01\01" "\00" "\00"
    "\08fail.out" "\02" "\01\01" "\00" "\06" "\00")
  ;; next_batch at 160, 11 bytes: eof, awake 0, one item ("bad", "x")
  (data (i32.const 160) "\00" "\01" "\00" "\01\06" "\04bad" "\01x")
  ;; status 1 at 191, then the ErrorInfo at 192, 138 bytes: message, stack,
  ;; step index 1 + 1, key "bad"
  (data (i32.const 191) "\01"
    "\6cerror calling on_batch in step fail.sum.stateful_flat_map.stateful.stateful_batch for key \"bad\": boom at bad"
    "\16lastfail.wat: on_batch" "\02" "\01" "\03bad")
  (func (export "bxwasm_abi_version") (result i32) (i32.const 1))
  (func (export "bxwasm_buffer") (param i32) (result i32) (i32.const 1024))
  (func $op (result i32) (i32.load8_u (i32.const 1024)))
  (func (export "bxwasm_call") (param i32) (result i64)
    (if (i32.eq (call $op) (i32.const 1)) (then (return (i64.const 0x000000100000001c))))
    (if (i32.eq (call $op) (i32.const 2))
      (then (global.set $mode (i32.load8_u (i32.const 1026))) (return (i64.const 0x0000004000000060))))
    (if (i32.eq (call $op) (i32.const 12)) (then (return (i64.const 0x000000a00000000b))))
    (if (i32.eq (call $op) (i32.const 5)) (then (return (call $fail))))
    (i64.const 1)) ;; any other op: an empty OK response, the 0 at address 0
  ;; fail answers a StatusError, or records the ErrorInfo (unless in mode
  ;; zero) and traps.
  (func $fail (result i64)
    (if (i32.eq (global.get $mode) (i32.const 0x73)) ;; 's'
      (then (return (i64.const 0x000000bf0000008b))))
    (if (i32.ne (global.get $mode) (i32.const 0x7a)) ;; not 'z'
      (then (global.set $last (i64.const 0x000000c00000008a))))
    (unreachable))
  (func (export "bxwasm_last_error") (result i64)
    (if (i32.eq (global.get $mode) (i32.const 0x6c)) ;; 'l'
      (then (loop $l (br $l))))
    (global.get $last)))
