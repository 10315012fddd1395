// Command streamcount is the guest of the benchmark's stream figure: it
// reads the payloads of a JetStream stream (each payload is a key), counts
// them per key with CountFinal and publishes one "key count" line per key
// to a JetStream subject when the input ends. The source is bounded: it
// ends at the last message the stream held when the run started.
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o streamcount.wasm .
//	bxwasm run streamcount.wasm:"flow('EVENTS', 'counts')" --connection nats=nats://127.0.0.1:4222 -w2
package main

import (
	"strconv"

	bx "github.com/bxwasm/bxwasm/guest-sdk/go/bx"
)

// Conn is the connection the flow names; bind it with --connection nats=URL.
const Conn = "nats"

func init() {
	bx.Register("flow", streamcount, "stream", "out")
}

// streamcount builds the flow from stream to the subject out.
func streamcount(stream, out string) *bx.Dataflow {
	flow := bx.NewDataflow("streamcount")
	keys := bx.Input("inp", flow, bx.JetStreamPayloads(Conn, stream, bx.StreamOptions{}))
	counts := bx.CountFinal("count", keys, identity)
	lines := bx.Map("format", counts, format)
	bx.Output("out", lines, bx.JetStreamSink(Conn, out, bx.SinkOptions{}))
	return flow
}

// identity keys every payload by itself.
func identity(key string) string { return key }

// format renders a key's count as the line "key count", keyed by the key.
func format(kv bx.KV[int]) bx.KV[string] {
	return bx.KV[string]{Key: kv.Key, Value: kv.Key + " " + strconv.Itoa(kv.Value)}
}

func main() {}
