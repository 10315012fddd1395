// Command oom is a test guest that allocates 8 MiB per bxwasm_call and
// keeps all of it, so it runs into the host's memory limit.
package main

import (
	"unsafe"

	"github.com/bxwasm/bxwasm/guest-sdk/go/abi"
)

func main() {}

var (
	in   = make([]byte, 1<<16)
	out  = []byte{byte(abi.StatusOK)}
	kept [][]byte
)

//go:wasmexport bxwasm_abi_version
func abiVersion() int32 { return abi.Version }

//go:wasmexport bxwasm_buffer
func buffer(size int32) uint32 { return uint32(uintptr(unsafe.Pointer(&in[0]))) }

//go:wasmexport bxwasm_call
func call(n int32) uint64 {
	b := make([]byte, 8<<20)
	for i := range b {
		b[i] = byte(i)
	}
	kept = append(kept, b)
	return uint64(uintptr(unsafe.Pointer(&out[0])))<<32 | uint64(len(out))
}
