package guest

import (
	"context"
	"fmt"
	"testing"

	"github.com/bxwasm/bxwasm/guest-sdk/go/abi"
)

// BenchmarkCall measures a round trip into the echo guest, with and
// without CloseOnContextDone, for an empty call and for a chain of 100
// small items (the guest decodes and re-encodes the batch).
func BenchmarkCall(b *testing.B) {
	var batch abi.Batch
	for n := range 100 {
		batch.Append([]byte(fmt.Sprint("key", n%7)), true, []byte(fmt.Sprint("value ", n)))
	}
	for _, closeOnDone := range []bool{false, true} {
		rt := newRuntime(b, Config{CloseOnContextDone: closeOnDone})
		inst := instantiate(b, rt, "echo")
		ctx := context.Background()
		b.Run(fmt.Sprintf("close-on-done=%t/empty", closeOnDone), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := inst.Fuse(ctx, abi.FuseRequest{Chain: 1}); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("close-on-done=%t/chain-100", closeOnDone), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := inst.RunChain(ctx, abi.ChainRequest{Chain: 1, Batch: batch}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*batch.N), "ns/item")
		})
	}
}
