// Command badsig is a test guest whose bxwasm_call has the wrong type:
// it returns an i32 where the ABI wants an i64.
package main

import "github.com/bxwasm/bxwasm/guest-sdk/go/abi"

func main() {}

//go:wasmexport bxwasm_abi_version
func abiVersion() int32 { return abi.Version }

//go:wasmexport bxwasm_buffer
func buffer(size int32) uint32 { return 0 }

//go:wasmexport bxwasm_call
func call(n int32) int32 { return 0 }
