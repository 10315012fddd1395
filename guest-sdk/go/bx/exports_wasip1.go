//go:build wasip1

package bx

import (
	"fmt"
	"unsafe"

	"github.com/bxwasm/bxwasm/guest-sdk/go/abi"
)

// reqBuf holds the host's request; resp the last response. Both stay
// alive (and, Go's collector not moving objects, in place) between calls.
var (
	reqBuf []byte
	resp   []byte
)

// bxwasmABIVersion is the bxwasm_abi_version export.
//
//go:wasmexport bxwasm_abi_version
func bxwasmABIVersion() int32 { return abi.Version }

// bxwasmBuffer is the bxwasm_buffer export: it returns a pointer to at
// least size bytes where the host writes the next request.
//
//go:wasmexport bxwasm_buffer
func bxwasmBuffer(size int32) int32 {
	if int(size) > cap(reqBuf) || reqBuf == nil {
		reqBuf = make([]byte, max(int(size), 2*cap(reqBuf), 4096))
	}
	reqBuf = reqBuf[:cap(reqBuf)]
	return int32(uintptr(unsafe.Pointer(unsafe.SliceData(reqBuf))))
}

// bxwasmCall is the bxwasm_call export: it runs the request of n bytes in
// the buffer and returns ptr<<32 | len of the response.
//
//go:wasmexport bxwasm_call
func bxwasmCall(n int32) int64 {
	if n < 0 || int(n) > len(reqBuf) {
		resp = refuse(fmt.Errorf("%w: length %d is outside the request buffer of %d bytes", ErrRequest, n, len(reqBuf)))
	} else {
		resp = dispatch(reqBuf[:n])
	}
	ptr := uintptr(unsafe.Pointer(unsafe.SliceData(resp)))
	return int64(ptr)<<32 | int64(len(resp))
}

// refuse returns an error response for a request that cannot be read.
func refuse(err error) []byte {
	cur = site{}
	d.fail(errorInfo(err))
	return d.w.B
}
