// Command abiv2 is a test guest that speaks bxwasm ABI version 2.
package main

func main() {}

var in = make([]byte, 1<<16)

//go:wasmexport bxwasm_abi_version
func abiVersion() int32 { return 2 }

//go:wasmexport bxwasm_buffer
func buffer(size int32) uint32 { return 0 }

//go:wasmexport bxwasm_call
func call(n int32) uint64 { return 0 }
