package main

import (
	"context"
	"fmt"
	"io"

	"github.com/bxwasm/bxwasm/host"
)

// Run prints what the module holds.
func (c *inspectCmd) Run(ctx context.Context, s streams) error {
	if !watched() {
		s.intr.graceful() // the first signal goes to the child
		return watchChild(ctx, s, 2, c.limits())
	}
	o := c.moduleFlags.options(s)
	if err := openWatchdog(&o); err != nil {
		return err
	}
	info, err := host.Inspect(ctx, c.Module, o)
	if err != nil {
		return err
	}
	printInfo(s.out, info)
	return nil
}

// printInfo writes a module's description:
//
//	module   wc.wasm (2.1 MiB)
//	abi      v1
//	flows    get_flow(path string)
//	imports  wasi_snapshot_preview1.fd_write
//	         ...
func printInfo(w io.Writer, info *host.ModuleInfo) {
	fmt.Fprintf(w, "module   %s (%s)\n", info.Path, size(info.Size))
	fmt.Fprintf(w, "abi      v%d\n", info.ABIVersion)
	var flows []string
	for _, f := range info.Flows {
		flows = append(flows, f.Signature())
	}
	printList(w, "flows", flows, "none registered")
	printList(w, "imports", info.Imports, "none")
}

func printList(w io.Writer, title string, items []string, none string) {
	if len(items) == 0 {
		fmt.Fprintf(w, "%-8s (%s)\n", title, none)
		return
	}
	for i, it := range items {
		if i == 0 {
			fmt.Fprintf(w, "%-8s %s\n", title, it)
			continue
		}
		fmt.Fprintf(w, "%-8s %s\n", "", it)
	}
}

// size renders a byte count for people.
func size(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
