// Command coreflow counts core NATS messages per payload: it subscribes to
// ev.a and ev.b and publishes "payload n" for the n-th message of each
// payload to the subject counts.
package main

import (
	"strconv"

	bx "github.com/bxwasm/bxwasm/guest-sdk/go/bx"
)

func init() { bx.Register("flow", flow) }

func flow() *bx.Dataflow {
	f := bx.NewDataflow("core")
	msgs := bx.Input("inp", f, bx.NATSSource("events", "ev.a", "ev.b"))
	keyed := bx.Map("key", msgs, func(m bx.Message) bx.KV[int] { return bx.KV[int]{Key: string(m.Value), Value: 1} })
	counts := bx.StatefulMap("count", keyed, func(n *int, one int) (*int, int) {
		if n == nil {
			n = new(int)
		}
		*n += one
		return n, *n
	})
	out := bx.Map("format", counts, func(kv bx.KV[int]) bx.KV[string] {
		return bx.KV[string]{Key: kv.Key, Value: kv.Key + " " + strconv.Itoa(kv.Value)}
	})
	bx.Output("out", out, bx.NATSSink("events", "counts", bx.SinkOptions{Partitions: 3}))
	return f
}

func main() {}
