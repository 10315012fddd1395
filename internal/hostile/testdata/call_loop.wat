;; A guest that answers its ABI version, then loops in its first call
;; (listing its flows) without ever looking at the request.
(module
  (memory (export "memory") 1)
  (func (export "bxwasm_abi_version") (result i32) (i32.const 1))
  (func (export "bxwasm_buffer") (param i32) (result i32) (i32.const 1024))
  (func (export "bxwasm_call") (param i32) (result i64) (loop $l (br $l)) (i64.const 0)))
