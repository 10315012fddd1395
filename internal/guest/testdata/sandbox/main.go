// Command sandbox is a test guest that reports what the sandbox lets it
// see. Every call answers StatusOK followed by lines "name=value" about its
// arguments, environment, files, clock and random source, and writes
// "hello stdout" and "hello stderr" to its standard streams.
package main

import (
	"crypto/rand"
	"fmt"
	"os"
	"strings"
	"time"
	"unsafe"

	"github.com/bxwasm/bxwasm/guest-sdk/go/abi"
)

func main() {}

var (
	in  = make([]byte, 1<<16)
	out []byte
)

//go:wasmexport bxwasm_abi_version
func abiVersion() int32 { return abi.Version }

//go:wasmexport bxwasm_buffer
func buffer(size int32) uint32 { return uint32(uintptr(unsafe.Pointer(&in[0]))) }

//go:wasmexport bxwasm_call
func call(n int32) uint64 {
	fmt.Fprintln(os.Stdout, "hello stdout")
	fmt.Fprintln(os.Stderr, "hello stderr")
	var b strings.Builder
	b.WriteByte(byte(abi.StatusOK))
	fmt.Fprintf(&b, "args=%d\n", len(os.Args))
	fmt.Fprintf(&b, "env=%d\n", len(os.Environ()))
	for _, p := range []string{"/", ".", "/etc/passwd"} {
		_, err := os.Stat(p)
		fmt.Fprintf(&b, "stat %s=%t\n", p, err == nil)
	}
	t0 := time.Now()
	time.Sleep(20 * time.Millisecond)
	fmt.Fprintf(&b, "year=%d\n", t0.Year())
	fmt.Fprintf(&b, "slept=%t\n", time.Since(t0) >= 20*time.Millisecond)
	r := make([]byte, 16)
	rand.Read(r)
	fmt.Fprintf(&b, "rand=%x\n", r)
	out = []byte(b.String())
	return uint64(uintptr(unsafe.Pointer(&out[0])))<<32 | uint64(len(out))
}
