;; A guest that imports a function the host does not provide (what
;; AssemblyScript's default abort import looks like).
(module
  (import "env" "abort" (func $abort (param i32 i32 i32 i32)))
  (memory (export "memory") 1)
  (func (export "bxwasm_abi_version") (result i32) (i32.const 1))
  (func (export "bxwasm_buffer") (param i32) (result i32) (i32.const 1024))
  (func (export "bxwasm_call") (param i32) (result i64) (i64.const 0)))
