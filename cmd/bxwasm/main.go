// Command bxwasm runs Bytewax-style dataflows whose logic is a WebAssembly
// module:
//
//	bxwasm run wc.wasm:"get_flow('in.txt')" -w2
//	bxwasm inspect wc.wasm
//
// It is a thin layer over the host package: flags and environment
// variables become host.Options, and the run target becomes a module path
// and a flow spec.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], streams{in: os.Stdin, out: os.Stdout, err: os.Stderr})
	stop()
	os.Exit(code)
}
