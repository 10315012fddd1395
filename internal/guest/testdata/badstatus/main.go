// Command badstatus is a test guest that answers with responses the host
// cannot read, chosen by the request's op byte:
//
//	1: unknown status byte 7
//	2: an empty response (no status byte)
//	3: StatusError with a truncated error report
//	4: StatusOK with a flow list followed by trailing bytes
//	5: StatusOK with a batch whose count does not match its items
package main

import (
	"unsafe"

	"github.com/bxwasm/bxwasm/guest-sdk/go/abi"
)

func main() {}

var (
	in  = make([]byte, 1<<16)
	out abi.Writer
)

//go:wasmexport bxwasm_abi_version
func abiVersion() int32 { return abi.Version }

//go:wasmexport bxwasm_buffer
func buffer(size int32) uint32 { return uint32(uintptr(unsafe.Pointer(&in[0]))) }

//go:wasmexport bxwasm_call
func call(n int32) uint64 {
	out.B = append(out.B[:0], 0) // keep &out.B[0] valid for empty answers
	out.Reset()
	switch in[0] {
	case 1:
		out.Byte(7)
	case 2:
	case 3:
		out.Byte(byte(abi.StatusError))
		out.Uvarint(100)
		out.Raw([]byte("short"))
	case 4:
		out.Byte(byte(abi.StatusOK))
		l := abi.FlowList{Flows: []abi.FlowInfo{{Name: "flow"}}}
		l.Encode(&out)
		out.Raw([]byte{1, 2, 3})
	case 5:
		out.Byte(byte(abi.StatusOK))
		b := abi.Batch{}
		b.Append(nil, false, []byte("a"))
		b.Append(nil, false, []byte("b"))
		b.N = 1
		p := abi.ChainResponse{Outputs: []abi.Batch{b}}
		p.Encode(&out)
	}
	return uint64(uintptr(unsafe.Pointer(unsafe.SliceData(out.B))))<<32 | uint64(len(out.B))
}
