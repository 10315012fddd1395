package engine

import (
	"fmt"
	"maps"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bxwasm/bxwasm/internal/recovery"
)

// TestCheckpoints runs a recoverable flow and checks the state the store
// holds as of each epoch: every key's count (with its pending timer), the
// source positions, and how many items the sink partitions had taken.
func TestCheckpoints(t *testing.T) {
	input := map[string]part{
		"a": {lines: []line{at(1, "x y"), at(12, "x")}, end: sec(30)},
		"b": {lines: []line{at(5, "y")}, end: sec(5)},
	}
	for _, tc := range []struct {
		name   string
		notify time.Duration
		want   []string // by epoch from 1: "step/key=state ..." sorted, sink positions summed as "sinks=n"
	}{
		{"counts and positions", 0, []string{
			"f.count/x=1 f.count/y=2 f.inp/a=1 f.inp/b=1 sinks=3",
			"f.count/x=2 f.count/y=2 f.inp/a=2 f.inp/b=1 sinks=4",
			"f.count/x=2 f.count/y=2 f.inp/a=2 f.inp/b=1 sinks=4",
		}},
		{"with timers", 15 * time.Second, []string{
			// x: timer 16s, moved to 27s by the line at 12s, fires at 27s;
			// y: timer 16s, moved to 20s by the line at 5s, fires at 20s.
			"f.count/x=1@16s f.count/y=2@20s f.inp/a=1 f.inp/b=1 sinks=3",
			"f.count/x=2@27s f.count/y=2 f.inp/a=2 f.inp/b=1 sinks=5",
			"f.count/x=2 f.count/y=2 f.inp/a=2 f.inp/b=1 sinks=6",
		}},
	} {
		for _, workers := range []int{1, 2} {
			t.Run(fmt.Sprintf("%s/%d workers", tc.name, workers), func(t *testing.T) {
				w := newWorld(input)
				w.notify = tc.notify
				store := recovery.NewMemory()
				if err := (run{workers: workers, store: store}).exec(t, w); err != nil {
					t.Fatal(err)
				}
				for e, want := range tc.want {
					if got := describeState(stored(t, store, uint64(e+1))); got != want {
						t.Errorf("epoch %d:\n got %s\nwant %s", e+1, got, want)
					}
				}
				// The last commit covers the epoch after the last one
				// closed, which holds what on_eof changed and emitted.
				if got, want := resumeEpoch(t, store), uint64(len(tc.want)+2); got != want {
					t.Errorf("resume epoch %d, want %d", got, want)
				}
			})
		}
	}
}

// describeState renders a loaded state sorted, with the sink partitions'
// positions summed (which partition a key lands in is the routing test's
// business).
func describeState(m map[string]string) string {
	var parts []string
	sinks := 0
	for _, k := range sortedMapKeys(m) {
		if strings.HasPrefix(k, "f.out/") {
			n, _ := strconv.Atoi(m[k])
			sinks += n
			continue
		}
		parts = append(parts, k+"="+m[k])
	}
	return strings.Join(append(parts, fmt.Sprintf("sinks=%d", sinks)), " ")
}

func sortedMapKeys(m map[string]string) []string {
	keys := make(map[string]bool, len(m))
	for k := range maps.Keys(m) {
		keys[k] = true
	}
	return sortedKeys(keys)
}

func resumeEpoch(t *testing.T, store recovery.Store) uint64 {
	t.Helper()
	e, err := store.ResumeEpoch(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return e
}
