package recovery

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
)

// TestProcessLocks opens a store as processes of one or two runs: the same process id conflicts, other ids
// share the store, and a closed store's lock is free again.
func TestProcessLocks(t *testing.T) {
	cases := []struct {
		name   string
		held   []int // processes holding the store, in order
		closed []int // of those, the ones closed before the open
		open   int
		want   error
	}{
		{name: "process 0 of a second run", held: []int{0}, open: 0, want: ErrLocked},
		{name: "process 1 beside process 0", held: []int{0}, open: 1},
		{name: "process 1 twice", held: []int{0, 1}, open: 1, want: ErrLocked},
		{name: "process 0 while only process 1 holds", held: []int{1}, open: 0},
		{name: "process 0 after close", held: []int{0}, closed: []int{0}, open: 0},
		{name: "process 1 after close", held: []int{0, 1}, closed: []int{1}, open: 1},
		{name: "negative process", open: -1, want: ErrBadProcess},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := initWith(t, 2)
			held := map[int]*SQLite{}
			for _, p := range tc.held {
				held[p] = openProcess(t, dir, p)
			}
			for _, p := range tc.closed {
				must(t, held[p].Close())
			}
			s, err := OpenSQLite(context.Background(), dir, SQLiteOptions{FlowID: "flow", Process: tc.open})
			if err == nil {
				s.Close()
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v; want %v", err, tc.want)
			}
			if tc.want == ErrLocked && !strings.Contains(err.Error(), fmt.Sprintf("process %d of pid", tc.open)) {
				t.Fatalf("error %q does not name process %d", err, tc.open)
			}
		})
	}
}

func openProcess(t *testing.T, dir string, p int) *SQLite {
	t.Helper()
	s, err := OpenSQLite(context.Background(), dir, SQLiteOptions{FlowID: "flow", Process: p})
	must(t, err)
	t.Cleanup(func() { s.Close() })
	return s
}

// TestProcessesShareStore has two processes of one run (two handles on one directory) write 20 epochs of
// 1000 keys each and commit their worker's frontier at once; process 0 began the execution, process 1
// commits with its number. Every key and the common frontier must be there at the end, seen by either.
func TestProcessesShareStore(t *testing.T) {
	const writes, keys = 20, 1000
	ctx := context.Background()
	dir := initWith(t, 3)
	procs := []*SQLite{openProcess(t, dir, 0), openProcess(t, dir, 1)}
	ex, err := procs[0].Begin(ctx, len(procs))
	must(t, err)
	var wg sync.WaitGroup
	errs := make([]error, len(procs))
	for p, s := range procs {
		wg.Go(func() { errs[p] = writeProcess(ctx, s, ex, p, writes, keys) })
	}
	wg.Wait()
	must(t, errors.Join(errs...))
	for p, s := range procs {
		if got, err := s.ResumeEpoch(ctx); err != nil || got != writes+1 {
			t.Fatalf("process %d: ResumeEpoch = %d, %v; want %d", p, got, err, writes+1)
		}
		// initWith wrote 2000 keys before the execution began, which Begin dropped (epoch 1 >= resume 1).
		if got := loadAll(t, s, writes, all); len(got) != len(procs)*writes*keys {
			t.Fatalf("process %d: loaded %d keys; want %d", p, len(got), len(procs)*writes*keys)
		}
	}
}

// writeProcess writes and commits, as worker p, epochs 1..writes of keys new keys each.
func writeProcess(ctx context.Context, s *SQLite, ex uint64, p, writes, keys int) error {
	for e := uint64(1); e <= uint64(writes); e++ {
		snaps := make([]Snapshot, keys)
		for i := range snaps {
			snaps[i] = snap("s", fmt.Sprintf("p%d-e%d-k%d", p, e, i), e, "x")
		}
		if err := s.Write(ctx, snaps); err != nil {
			return fmt.Errorf("process %d epoch %d: %w", p, e, err)
		}
		if err := s.Commit(ctx, ex, p, e); err != nil {
			return fmt.Errorf("process %d epoch %d: %w", p, e, err)
		}
	}
	return nil
}
