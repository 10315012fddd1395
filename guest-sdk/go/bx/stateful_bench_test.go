package bx

import (
	"fmt"
	"strings"
	"testing"

	"github.com/bxwasm/bxwasm/guest-sdk/go/abi"
)

// BenchmarkCountFinalStateful measures the stateful half of a word count:
// batches of 4096 distinct keys drawn from 50,000, summed per key.
func BenchmarkCountFinalStateful(b *testing.B) {
	g := buildFlow(b, func() *Dataflow {
		flow := NewDataflow("bench")
		in := Input("inp", flow, TestingSource([]KV[int]{}, 1))
		out := ReduceFinal("count", in, func(a, b int) int { return a + b })
		Output("out", out, captureSink(new([]KV[int])))
		return flow
	})
	step := stepIndex(b, g, "bench.count.fold_final.stateful.stateful_batch")
	batches := make([]abi.Batch, 16)
	for i := range batches {
		kvs := make([]KV[int], 4096)
		for k := range kvs {
			kvs[k] = KV[int]{Key: fmt.Sprintf("word%d", (i*4096+k*7)%50000), Value: 1}
		}
		batches[i] = batchOf(kvs...)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		call(b, abi.OpStatefulBatch, &abi.StatefulRequest{Step: step, Batch: batches[i%len(batches)]})
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*4096), "ns/item")
}

// BenchmarkWordcountChain measures the stateless half of a word count as
// the host fuses it: lower-case, split, key and pre-reduce 4096 lines of 8
// words from a 50,000-word vocabulary.
func BenchmarkWordcountChain(b *testing.B) {
	g := buildFlow(b, func() *Dataflow {
		flow := NewDataflow("wc")
		lines := Input("inp", flow, FileSource("x"))
		words := FlatMap("split", Map("lower", lines, strings.ToLower), strings.Fields)
		Output("out", Map("fmt", CountFinal("count", words, func(w string) string { return w }), func(kv KV[int]) string { return kv.Key }), StdOutSink())
		return flow
	})
	var chain []uint32
	for _, id := range []string{"wc.lower.flat_map_batch", "wc.split.flat_map_batch", "wc.count.init_count.flat_map_batch", "wc.count.sum.pre_reduce"} {
		chain = append(chain, stepIndex(b, g, id))
	}
	call(b, abi.OpFuse, &abi.FuseRequest{Chain: 1, Steps: chain})
	lines := make([]string, 4096)
	for i := range lines {
		var sb strings.Builder
		for k := 0; k < 8; k++ {
			fmt.Fprintf(&sb, "Word%d ", (i*131+k*7919)%50000)
		}
		lines[i] = sb.String()
	}
	req := request(abi.OpRunChain, &abi.ChainRequest{Chain: 1, Batch: batchOf(lines...)})
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if resp := dispatch(req); resp[0] != byte(abi.StatusOK) {
			b.Fatal("chain failed")
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(lines)*8), "ns/word")
}
