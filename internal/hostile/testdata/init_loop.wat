;; A guest whose _initialize never returns.
(module
  (memory (export "memory") 1)
  (func (export "_initialize") (loop $l (br $l)))
  (func (export "bxwasm_abi_version") (result i32) (i32.const 1))
  (func (export "bxwasm_buffer") (param i32) (result i32) (i32.const 1024))
  (func (export "bxwasm_call") (param i32) (result i64) (i64.const 0)))
