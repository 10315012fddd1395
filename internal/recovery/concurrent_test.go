package recovery

import (
	"context"
	"fmt"
	"sync"
	"testing"
)

// TestConcurrentWorkers has four workers write and commit ten epochs at once; every key and the common
// frontier must be there at the end.
func TestConcurrentWorkers(t *testing.T) {
	const workers, epochs, keys = 4, 10, 50
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			s := b.open(t)
			ex, err := s.Begin(ctx, workers)
			must(t, err)
			var wg sync.WaitGroup
			errs := make(chan error, workers)
			for w := range workers {
				wg.Go(func() { errs <- runWorker(ctx, s, ex, w, epochs, keys) })
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				must(t, err)
			}
			if got, err := s.ResumeEpoch(ctx); err != nil || got != epochs+1 {
				t.Fatalf("ResumeEpoch = %d, %v; want %d", got, err, epochs+1)
			}
			if got := loadAll(t, s, epochs, all); len(got) != workers*keys {
				t.Fatalf("loaded %d keys; want %d", len(got), workers*keys)
			}
		})
	}
}

func runWorker(ctx context.Context, s Store, ex uint64, w, epochs, keys int) error {
	for e := uint64(1); e <= uint64(epochs); e++ {
		snaps := make([]Snapshot, keys)
		for i := range snaps {
			snaps[i] = snap("s", fmt.Sprintf("w%d-k%d", w, i), e, fmt.Sprint(e))
		}
		if err := s.Write(ctx, snaps); err != nil {
			return err
		}
		if err := s.Commit(ctx, ex, w, e); err != nil {
			return err
		}
	}
	return nil
}
