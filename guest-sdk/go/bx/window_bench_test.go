package bx

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bxwasm/bxwasm/guest-sdk/go/abi"
)

// BenchmarkCountWindowStateful measures the stateful step of a 1-minute
// tumbling CountWindow with an event clock, as the benchmark's window
// figure runs it: batches of 4096 "key,unix_millis" values over 10,000
// keys, event time advancing 0.6 ms a value, so each key sees about ten
// values a window and windows close as time moves on.
func BenchmarkCountWindowStateful(b *testing.B) {
	g := buildFlow(b, func() *Dataflow { return windowCountFlow([]string{}, StdOutSink()) })
	step := stepIndex(b, g, "bench.count.sum.window.stateful_batch")
	const batch = 4096
	batches := make([]abi.Batch, 64)
	for i := range batches {
		kvs := make([]KV[string], batch)
		for k, l := range windowEvents(i*batch, batch) {
			key, _, _ := strings.Cut(l, ",")
			kvs[k] = KV[string]{Key: key, Value: l}
		}
		batches[i] = batchOf(kvs...)
	}
	now := time.Now().UnixNano()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if i%len(batches) == 0 && i > 0 {
			b.StopTimer()
			call(b, abi.OpEOF, &abi.StepRequest{Step: step})
			b.StartTimer()
		}
		call(b, abi.OpStatefulBatch, &abi.StatefulRequest{Step: step, Now: now + int64(i), Batch: batches[i%len(batches)]})
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*batch), "ns/item")
}

// BenchmarkCountWindowFlow measures the whole flow of the benchmark's
// window figure on one simulated worker: a source of "key,unix_millis"
// lines in batches of 1024, CountWindow's key step, its stateful step,
// the steps that split its events into Down, Late and Meta, and a format
// step.
func BenchmarkCountWindowFlow(b *testing.B) {
	const n = 1 << 17
	lines := windowEvents(0, n)
	var got []string
	b.ReportAllocs()
	for b.Loop() {
		got = got[:0]
		runFlow(b, func() *Dataflow { return windowCountFlow(lines, captureSink(&got)) }, simOpts{})
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/item")
}

// windowCountFlow is the flow of the benchmark's window figure over lines.
func windowCountFlow(lines []string, sink Sink[string]) *Dataflow {
	flow := NewDataflow("bench")
	in := Input("inp", flow, TestingSource(lines, 1024))
	clock := EventClock(func(l string) time.Time {
		_, ms, _ := strings.Cut(l, ",")
		n, _ := strconv.ParseInt(ms, 10, 64)
		return time.UnixMilli(n)
	}, 30*time.Second)
	out := CountWindow("count", in, clock, TumblingWindower(time.Minute, time.Unix(0, 0)), func(l string) string {
		k, _, _ := strings.Cut(l, ",")
		return k
	})
	Output("out", Map("fmt", out.Down, func(kv KV[Windowed[int]]) string {
		return kv.Key + " " + strconv.FormatInt(kv.Value.ID, 10) + " " + strconv.Itoa(kv.Value.Value)
	}), sink)
	return flow
}

// windowEvents returns n "key,unix_millis" lines from the from-th on: keys
// spread over 10,000, event time advancing 0.6 ms a line, so each key
// sees about ten lines a 1-minute window.
func windowEvents(from, n int) []string {
	lines := make([]string, n)
	for i := range lines {
		j := from + i
		lines[i] = fmt.Sprintf("key-%05d,%d", (j*7919)%10000, 1_704_067_200_000+j*3/5)
	}
	return lines
}
