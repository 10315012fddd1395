;; A guest whose bxwasm_buffer cannot allocate and returns 0 instead of
;; trapping. Its bxwasm_call traps: if the host wrote the request at
;; address 0 and called it, the test would see a crash, not a refusal.
(module
  (memory (export "memory") 1)
  (func (export "bxwasm_abi_version") (result i32) (i32.const 1))
  (func (export "bxwasm_buffer") (param i32) (result i32) (i32.const 0))
  (func (export "bxwasm_call") (param i32) (result i64) (unreachable)))
