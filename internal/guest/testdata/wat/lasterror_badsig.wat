;; A guest whose bxwasm_last_error has the wrong type: (i32) -> i32.
(module
  (memory (export "memory") 1)
  (func (export "bxwasm_abi_version") (result i32) (i32.const 1))
  (func (export "bxwasm_buffer") (param i32) (result i32) (i32.const 1024))
  (func (export "bxwasm_call") (param i32) (result i64) (i64.const 1))
  (func (export "bxwasm_last_error") (param i32) (result i32) (i32.const 0)))
