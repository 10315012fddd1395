package bx

import (
	"fmt"
	"testing"

	"github.com/bxwasm/bxwasm/internal/abi"
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
