;; A guest that answers its first call with a response far outside its
;; memory: 4096 bytes at 0xfffff000, in a memory of one 64 KiB page.
(module
  (memory (export "memory") 1)
  (func (export "bxwasm_abi_version") (result i32) (i32.const 1))
  (func (export "bxwasm_buffer") (param i32) (result i32) (i32.const 1024))
  (func (export "bxwasm_call") (param i32) (result i64) (i64.const 0xfffff00000001000)))
