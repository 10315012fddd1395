;; The smallest guest the ABI allows, with the extra exports toolchains
;; add (__heap_base, __data_end, a table, a function of its own) and no
;; _initialize. Every call answers an empty OK response (the 0 at address
;; 0).
(module
  (memory (export "memory") 1)
  (table (export "__indirect_function_table") 1 funcref)
  (global (export "__heap_base") i32 (i32.const 66560))
  (global (export "__data_end") i32 (i32.const 1024))
  (func (export "helper") (result i32) (i32.const 7))
  (func (export "bxwasm_abi_version") (result i32) (i32.const 1))
  (func (export "bxwasm_buffer") (param i32) (result i32) (i32.const 1024))
  (func (export "bxwasm_call") (param i32) (result i64) (i64.const 1)))
