package recovery

import (
	"context"
	"fmt"
	"testing"
)

// benchStores are the stores the benchmarks compare: Memory, and SQLite with 4 partitions.
var benchStores = []struct {
	name string
	open func(testing.TB) Store
}{
	{"memory", func(testing.TB) Store { return NewMemory() }},
	{"sqlite", func(t testing.TB) Store { return openTemp(t, 4) }},
}

// BenchmarkLoad1M times loading 1M keys (16-byte states, 4 partitions for SQLite) into one worker,
// Memory and SQLite side by side. Run: go test -run '^$' -bench Load1M ./internal/recovery/
func BenchmarkLoad1M(b *testing.B) {
	const keys, batch = 1_000_000, 20_000
	for _, be := range benchStores {
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

// BenchmarkGC times GC after every epoch on a store of 100k keys × 10 epochs (1M rows, 4 partitions for
// SQLite): each iteration writes the next epoch of every key (not timed) and then GCs the epoch ten behind,
// so the store stays at 10 epochs and each GC drops one epoch of 100k rows. Run:
// go test -run '^$' -bench GC -benchtime 5x ./internal/recovery/
func BenchmarkGC(b *testing.B) {
	const keys, kept = 100_000, 10
	for _, be := range benchStores {
		b.Run(be.name, func(b *testing.B) {
			ctx := context.Background()
			s := be.open(b)
			e := uint64(0)
			next := func() {
				e++
				if err := s.Write(ctx, gcEpoch(keys, e)); err != nil {
					b.Fatal(err)
				}
			}
			for range kept {
				next()
			}
			for b.Loop() {
				b.StopTimer()
				next()
				b.StartTimer()
				if err := s.GC(ctx, e-kept+1); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// gcEpoch is every key's state at epoch e.
func gcEpoch(keys int, e uint64) []Snapshot {
	snaps := make([]Snapshot, keys)
	for i := range snaps {
		snaps[i] = Snapshot{StepID: "count", Key: fmt.Sprintf("key-%07d", i), Epoch: e, State: fmt.Appendf(nil, "%d", e)}
	}
	return snaps
}
