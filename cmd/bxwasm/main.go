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
	"sync/atomic"
	"syscall"
)

func main() {
	ctx, cancel := context.WithCancel(context.Background())
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	intr := &interrupts{stop: make(chan struct{}), cancel: cancel}
	go intr.watch(sigs)
	code := run(ctx, os.Args[1:], streams{in: os.Stdin, out: os.Stdout, err: os.Stderr, intr: intr})
	signal.Stop(sigs)
	cancel()
	os.Exit(code)
}

// interrupts turns SIGINT and SIGTERM into a graceful stop, for commands
// that claim one, and into cancelling the context otherwise or at the
// second signal.
type interrupts struct {
	stop    chan struct{}
	claimed atomic.Bool
	cancel  context.CancelFunc
}

func (i *interrupts) watch(sigs <-chan os.Signal) {
	<-sigs
	close(i.stop)
	if i.claimed.Load() {
		<-sigs
	}
	i.cancel()
}

// graceful claims the first signal: it closes the returned channel instead
// of cancelling the context. A nil *interrupts never stops.
func (i *interrupts) graceful() <-chan struct{} {
	if i == nil {
		return nil
	}
	i.claimed.Store(true)
	return i.stop
}
