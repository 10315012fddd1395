// Command kafkaflow is a guest for the CLI's Kafka tests: flow "count"
// reads the records of a topic on connection "kafka", counts them by
// record key and produces each running count (key, decimal count) into
// another topic.
package main

import (
	"strconv"

	bx "github.com/bxwasm/bxwasm/guest-sdk/go/bx"
)

func init() {
	bx.Register("count", func(in, out string) *bx.Dataflow {
		flow := bx.NewDataflow("kcount")
		msgs := bx.Input("inp", flow, bx.KafkaSource("kafka", []string{in}, bx.StreamOptions{}))
		keyed := bx.KeyOn("key", msgs, func(m bx.Message) string { return string(m.Key) })
		counts := bx.StatefulMap("count", keyed, func(n *int, _ bx.Message) (*int, string) {
			if n == nil {
				n = new(int)
			}
			*n++
			return n, strconv.Itoa(*n)
		})
		bx.Output("out", counts, bx.KafkaSink("kafka", out))
		return flow
	}, "in", "out")
}

func main() {}
