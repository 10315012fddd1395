package recovery

import (
	"context"
	"fmt"
	"testing"
)

// BenchmarkLoad1M times loading 1M keys (16-byte states, 4 partitions for SQLite) into one worker,
// Memory and SQLite side by side. Run: go test -run '^$' -bench Load1M ./internal/recovery/
func BenchmarkLoad1M(b *testing.B) {
	const keys, batch = 1_000_000, 20_000
	for _, be := range []struct {
		name string
		open func(testing.TB) Store
	}{
		{"memory", func(testing.TB) Store { return NewMemory() }},
		{"sqlite", func(t testing.TB) Store { return openTemp(t, 4) }},
	} {
		b.Run(be.name, func(b *testing.B) {
			ctx := context.Background()
			s := be.open(b)
			for start := 0; start < keys; start += batch {
				snaps := make([]Snapshot, 0, batch)
				for i := start; i < start+batch; i++ {
					snaps = append(snaps, Snapshot{StepID: "count", Key: fmt.Sprintf("key-%07d", i), Epoch: 1,
						State: fmt.Appendf(nil, "state-%010d", i)})
				}
				if err := s.Write(ctx, snaps); err != nil {
					b.Fatal(err)
				}
			}
			for b.Loop() {
				n := 0
				err := s.Load(ctx, 1, all, func(Snapshot) error { n++; return nil })
				if err != nil || n != keys {
					b.Fatalf("loaded %d keys, %v; want %d", n, err, keys)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/keys, "ns/key")
		})
	}
}
