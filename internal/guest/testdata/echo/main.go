// Command echo is a test guest that answers every bxwasm op with a canned,
// valid response derived from its request, so tests can check both the
// host's encoders (the guest decodes strictly) and its decoders.
package main

import (
	"unsafe"

	"github.com/bxwasm/bxwasm/guest-sdk/go/abi"
)

func main() {}

var (
	in  []byte
	out abi.Writer
)

//go:wasmexport bxwasm_abi_version
func abiVersion() int32 { return abi.Version }

//go:wasmexport bxwasm_buffer
func buffer(size int32) uint32 {
	if int(size) > cap(in) {
		in = make([]byte, size)
	}
	in = in[:size]
	if size == 0 {
		in = in[:1]
	}
	return uint32(uintptr(unsafe.Pointer(&in[0])))
}

//go:wasmexport bxwasm_call
func call(n int32) uint64 {
	out.Reset()
	out.Byte(byte(abi.StatusOK))
	r := abi.NewReader(in[:n])
	op := abi.Op(r.Byte())
	h, ok := handlers[op]
	if !ok {
		fail(abi.ErrorInfo{Message: "unknown op", Step: -1})
	} else {
		h(r)
	}
	if err := r.End(); err != nil && out.B[0] == byte(abi.StatusOK) {
		fail(abi.ErrorInfo{Message: "echo: bad request: " + err.Error(), Step: -1})
	}
	return uint64(uintptr(unsafe.Pointer(&out.B[0])))<<32 | uint64(len(out.B))
}

// fail replaces the response with a StatusError carrying e.
func fail(e abi.ErrorInfo) {
	out.Reset()
	out.Byte(byte(abi.StatusError))
	e.Encode(&out)
}

var handlers = map[abi.Op]func(r *abi.Reader){
	abi.OpListFlows:     listFlows,
	abi.OpBuild:         build,
	abi.OpFuse:          fuse,
	abi.OpRunChain:      runChain,
	abi.OpStatefulBatch: statefulBatch,
	abi.OpNotify:        keys,
	abi.OpEOF:           eof,
	abi.OpSnapshot:      snapshot,
	abi.OpRestore:       restore,
	abi.OpListParts:     listParts,
	abi.OpBuildPart:     buildPart,
	abi.OpNextBatch:     nextBatch,
	abi.OpWriteBatch:    writeBatch,
	abi.OpPartSnapshot:  partSnapshot,
	abi.OpClosePart:     closePart,
}
