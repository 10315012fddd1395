// Command loops is a hostile guest: each flow gets the host stuck in a
// call that never returns, in a different way.
package main

import (
	"fmt"
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
	bx.Register("quick", func() *bx.Dataflow {
		return mapFlow("quick", strings.ToUpper)
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
