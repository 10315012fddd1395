// Command echo is a guest for the CLI's tests: it copies the lines of
// stdin to stdout (flow "flow") or into a file (flow "to_file").
package main

import (
	"strings"

	bx "github.com/bxwasm/bxwasm/guest-sdk/go/bx"
)

func init() {
	bx.Register("flow", func() *bx.Dataflow {
		flow := bx.NewDataflow("echo")
		bx.Output("out", bx.Input("inp", flow, bx.StdinSource()), bx.StdOutSink())
		return flow
	})
	bx.Register("to_file", func(path string, upper bool) *bx.Dataflow {
		flow := bx.NewDataflow("to_file")
		lines := bx.Input("inp", flow, bx.StdinSource())
		if upper {
			lines = bx.Map("upper", lines, strings.ToUpper)
		}
		bx.Output("out", lines, bx.FileSink(path))
		return flow
	}, "path", "upper")
}

func main() {}
