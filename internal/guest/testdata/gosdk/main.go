// Command gosdk is a tiny guest of the Go SDK for the ABI tests of this package: one flow
// that upper-cases lines and panics on the line "panic".
package main

import (
	"strings"

	bx "github.com/bxwasm/bxwasm/guest-sdk/go/bx"
)

func init() {
	bx.Register("upper", func(path string) *bx.Dataflow {
		flow := bx.NewDataflow("smoke")
		lines := bx.Input("inp", flow, bx.FileSource(path))
		upper := bx.FlatMapBatch("upper", lines, func(ls []string) []string {
			out := make([]string, len(ls))
			for i, l := range ls {
				if l == "panic" {
					panic("asked to")
				}
				out[i] = strings.ToUpper(l)
			}
			return out
		})
		bx.Output("out", upper, bx.StdOutSink())
		return flow
	}, "path")
}

func main() {}
