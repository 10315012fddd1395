// Command badptr is a test guest that points the host outside its memory:
// bxwasm_buffer returns an address past the end of memory for 3-byte
// requests, and bxwasm_call answers op 1 with a response past the end of
// memory and op 2 with a length that wraps around it.
package main

import (
	"unsafe"

	"github.com/bxwasm/bxwasm/guest-sdk/go/abi"
)

func main() {}

var in = make([]byte, 1<<16)

//go:wasmexport bxwasm_abi_version
func abiVersion() int32 { return abi.Version }

//go:wasmexport bxwasm_buffer
func buffer(size int32) uint32 {
	if size == 3 {
		return 0xffff_fff0
	}
	return uint32(uintptr(unsafe.Pointer(&in[0])))
}

//go:wasmexport bxwasm_call
func call(n int32) uint64 {
	if in[0] == 2 {
		return uint64(uintptr(unsafe.Pointer(&in[0])))<<32 | 0xffff_ffff
	}
	return 0xffff_0000<<32 | 16
}
