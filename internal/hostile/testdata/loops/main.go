// Command loops is a hostile guest: most of its flows get the host stuck
// in a call that never returns, each in a different way; the others try
// the sandbox's walls and limits.
package main

import (
	"fmt"
	"os"
	"strings"
	"time"

	bx "github.com/bxwasm/bxwasm/guest-sdk/go/bx"
)

func main() {}

// spins keeps the loop of spin from being optimised away.
var spins int

func init() {
	bx.Register("spin", func() *bx.Dataflow {
		return mapFlow("spin", func(s string) string {
			for {
				spins++
			}
		})
	})
	bx.Register("sleep", func() *bx.Dataflow {
		return mapFlow("sleep", func(s string) string {
			time.Sleep(time.Hour)
			return s
		})
	})
	bx.Register("chatter", func() *bx.Dataflow {
		return mapFlow("chatter", func(s string) string {
			line := strings.Repeat(s, 1000)
			for i := 0; i < 100_000; i++ {
				fmt.Println(line) // blocks once nobody reads stdout
			}
			return s
		})
	})
	bx.Register("stuck_factory", func() *bx.Dataflow {
		for {
			spins++
		}
	})
	bx.Register("snoop", func() *bx.Dataflow {
		return mapFlow("snoop", func(string) string {
			_, err := os.ReadFile("/etc/passwd")
			return fmt.Sprintf("read=%v env=%d args=%d", err, len(os.Environ()), len(os.Args))
		})
	})
	bx.Register("escape", func() *bx.Dataflow {
		flow := bx.NewDataflow("escape")
		bx.Output("out", bx.Input("inp", flow, bx.FileSource("../../../../etc/passwd")), bx.StdOutSink())
		return flow
	})
	bx.Register("reach", func() *bx.Dataflow {
		// A server the operator did not name.
		f := bx.NewDataflow("reach")
		bx.Output("out", bx.Input("inp", f, bx.JetStreamPayloads("internal", "SECRETS", bx.StreamOptions{})), bx.StdOutSink())
		return f
	})
	bx.Register("many_parts", func() *bx.Dataflow {
		// A sink asking the host for a billion partitions.
		f := bx.NewDataflow("many_parts")
		kv := bx.Map("kv", bx.Input("inp", f, bx.TestingSource([]string{"x"}, 1)), func(s string) bx.KV[string] { return bx.KV[string]{Key: s, Value: s} })
		bx.Output("out", kv, bx.JetStreamSink("events", "out", bx.SinkOptions{Partitions: 1 << 30}))
		return f
	})
	bx.Register("hog", func() *bx.Dataflow {
		return mapFlow("hog", func(s string) string {
			var keep [][]byte
			for {
				keep = append(keep, make([]byte, 64<<20))
				spins += len(keep)
			}
		})
	})
	bx.Register("big", func(mib int) *bx.Dataflow {
		flow := bx.NewDataflow("big")
		in := bx.Input("inp", flow, bx.TestingSource([]string{"a"}, 1))
		big := bx.Map("grow", in, func(s string) string { return strings.Repeat(s, mib<<20) })
		spread := bx.Redistribute("spread", big)
		out := bx.Map("size", spread, func(s string) string { return fmt.Sprint(len(s)) })
		bx.Output("out", out, bx.StdOutSink())
		return flow
	}, "mib")
	bx.Register("quick", func() *bx.Dataflow {
		return mapFlow("quick", strings.ToUpper)
	})
	bx.Register("shout", func() *bx.Dataflow {
		flow := bx.NewDataflow("shout")
		long := strings.Repeat("k", 8<<10)
		in := bx.KeyOn("key", bx.Input("inp", flow, bx.TestingSource([]string{"x"}, 1)), func(string) string { return long })
		sum := bx.StatefulMap("sum", in, func(n *int, s string) (*int, string) { panic(strings.Repeat("boom ", 2<<20)) })
		bx.Output("out", bx.KeyRm("unkey", sum), bx.StdOutSink())
		return flow
	})
	bx.Register("fail", func() *bx.Dataflow {
		flow := bx.NewDataflow("fail")
		in := bx.KeyOn("key", bx.Input("inp", flow, bx.TestingSource([]string{"bad"}, 1)), func(s string) string { return s })
		sum := bx.StatefulMap("sum", in, func(n *int, s string) (*int, string) { panic("boom at " + s) })
		bx.Output("out", bx.KeyRm("unkey", sum), bx.StdOutSink())
		return flow
	})
}

// mapFlow is a flow that maps every item of a short list with f.
func mapFlow(name string, f func(string) string) *bx.Dataflow {
	flow := bx.NewDataflow(name)
	in := bx.Input("inp", flow, bx.TestingSource([]string{"a", "b", "c"}, 1))
	out := bx.Map("loop", in, f)
	bx.Output("out", out, bx.StdOutSink())
	return flow
}
