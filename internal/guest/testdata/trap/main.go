// Command trap is a test guest that crashes inside bxwasm_call in the way
// the request's op byte asks:
//
//	1: panic without recover
//	2: unbounded recursion (stack overflow)
//	3: os.Exit(3)
//	4: loop forever (for context cancellation)
//	5: write through a nil map
//
// Any other op is answered with StatusOK and an empty body.
package main

import (
	"os"
	"unsafe"

	"github.com/bxwasm/bxwasm/guest-sdk/go/abi"
)

func main() {}

var (
	in   = make([]byte, 1<<16)
	out  = []byte{byte(abi.StatusOK)}
	sink int
	m    map[string]int
)

//go:wasmexport bxwasm_abi_version
func abiVersion() int32 { return abi.Version }

//go:wasmexport bxwasm_buffer
func buffer(size int32) uint32 { return uint32(uintptr(unsafe.Pointer(&in[0]))) }

//go:wasmexport bxwasm_call
func call(n int32) uint64 {
	switch in[0] {
	case 1:
		panic("trap guest: boom")
	case 2:
		sink = recurse(1)
	case 3:
		os.Exit(3)
	case 4:
		for {
			sink++
		}
	case 5:
		m["x"] = 1
	}
	return uint64(uintptr(unsafe.Pointer(&out[0])))<<32 | uint64(len(out))
}

func recurse(n int) int {
	var pad [64]byte
	pad[n%64] = byte(n)
	return recurse(n+1) + int(pad[0])
}
