// Command stream_totals keeps a running total per user over a NATS
// JetStream stream of "user amount" payments and publishes "user total"
// after each one into another stream: exactly once, across crashes, with
// -r.
//
// Build it as a bxwasm guest and run it against a JetStream server:
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o stream_totals.wasm .
//	bxwasm run stream_totals.wasm:"totals('PAYMENTS', 'totals', false)" \
//	    --connection events=nats://127.0.0.1:4222 -p2 -w2 -r state
package main

import (
	"fmt"
	"strconv"
	"strings"

	bx "github.com/bxwasm/bxwasm/guest-sdk/go/bx"
)

// Conn is the connection the flow names; the operator binds it with
// --connection events=URL.
const Conn = "events"

func init() {
	bx.Register("totals", totals, "stream", "out_subject", "tail")
}

// totals builds the flow: read every payment of stream (one partition per
// subject), total it per user and publish each new total to out_subject.
// With tail the flow keeps waiting for payments; without, it ends at the
// last payment there when it started.
func totals(stream, outSubject string, tail bool) *bx.Dataflow {
	flow := bx.NewDataflow("stream_totals")
	msgs := bx.Input("inp", flow, bx.JetStreamSource(Conn, stream, bx.StreamOptions{Tail: tail}))
	amounts := bx.Map("parse", msgs, parse)
	sums := bx.StatefulMap("total", amounts, add)
	out := bx.Map("format", sums, func(kv bx.KV[int64]) bx.KV[string] {
		return bx.KV[string]{Key: kv.Key, Value: kv.Key + " " + strconv.FormatInt(kv.Value, 10)}
	})
	bx.Output("out", out, bx.JetStreamSink(Conn, outSubject, bx.SinkOptions{Partitions: 4}))
	return flow
}

// parse reads "user amount". A payment that does not parse fails the flow,
// naming where it is in the stream.
func parse(m bx.Message) bx.KV[int64] {
	user, amount, ok := strings.Cut(string(m.Value), " ")
	n, err := strconv.ParseInt(amount, 10, 64)
	if !ok || user == "" || err != nil {
		panic(fmt.Errorf("payment %d of partition %q (subject %s) is %q, not \"user amount\"", m.Seq, m.Partition, m.Subject, m.Value))
	}
	return bx.KV[int64]{Key: user, Value: n}
}

// add adds an amount to the user's total.
func add(sum *int64, n int64) (*int64, int64) {
	if sum == nil {
		sum = new(int64)
	}
	*sum += n
	return sum, *sum
}
func main() {}
