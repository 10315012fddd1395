package engine

import (
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/bxwasm/bxwasm/internal/recovery"
)

// TestResume stops a recoverable run part-way (a graceful stop at 15s,
// before any line of epoch 2, which the stop closes), resumes it on another number of workers and checks that counts and
// timers were restored on the keys' new owners, that no line was read
// twice or skipped, and that the final counts are right.
func TestResume(t *testing.T) {
	input := map[string]part{
		"a": {lines: []line{at(1, "x y"), at(16, "x z"), at(31, "y q")}, end: sec(40)},
		"b": {lines: []line{at(5, "y"), at(22, "z")}, end: sec(25)},
	}
	for _, tc := range []struct{ before, after int }{{2, 3}, {3, 2}, {1, 2}, {2, 2}} {
		t.Run(fmt.Sprintf("%d to %d workers", tc.before, tc.after), func(t *testing.T) {
			store := recovery.NewMemory()
			first := newWorld(input)
			first.notify = 20 * time.Second
			if err := (run{workers: tc.before, store: store, stopAt: sec(15)}).exec(t, first); err != nil {
				t.Fatalf("first run: %v", err)
			}
			if got := sortedLines(first); !slices.Equal(got, []string{"x y", "y"}) {
				t.Fatalf("first run read %q, want the lines before 15s", got)
			}
			if e := resumeEpoch(t, store); e != 3 {
				t.Fatalf("resume epoch %d, want 3 (epoch 2, read up to the stop, committed)", e)
			}

			second := newWorld(input)
			second.notify = 20 * time.Second
			if err := (run{workers: tc.after, store: store, start: sec(15)}).exec(t, second); err != nil {
				t.Fatalf("second run: %v", err)
			}
			checkRestored(t, second, tc.after, map[string]string{"x": "1", "y": "2"})
			if got := sortedLines(second); !slices.Equal(got, []string{"x z", "y q", "z"}) {
				t.Errorf("second run read %q, want the lines after 15s only", got)
			}
			final := lastCounts(first)
			maps.Copy(final, lastCounts(second))
			if want := wordCounts(input); !maps.Equal(final, want) {
				t.Errorf("final counts %v, want %v", final, want)
			}
			// y's timer, set in the first run (25s, from its line at 5s),
			// fires in the second at its time; x's (21s) was moved to 36s by
			// its line at 16s; z's (42s) and the later ones are dropped at
			// the end (40s).
			var notified []string
			for _, c := range second.calls("notify") {
				notified = append(notified, fmt.Sprintf("%s at %s on %d", c.text, c.at, c.worker))
			}
			want := []string{
				fmt.Sprintf("y@2 at 25s on %d", KeyWorker([]byte("y"), tc.after)),
				fmt.Sprintf("x@2 at 36s on %d", KeyWorker([]byte("x"), tc.after)),
			}
			if !slices.Equal(notified, want) {
				t.Errorf("second run notified %q, want %q", notified, want)
			}
		})
	}
}

// checkRestored checks that the guests restored exactly want (key ->
// state), each key on the worker owning it among workers.
func checkRestored(t *testing.T, w *world, workers int, want map[string]string) {
	t.Helper()
	got := map[string]string{}
	for _, c := range w.calls("restore") {
		got[c.key] = c.text
		if owner := KeyWorker([]byte(c.key), workers); c.worker != owner {
			t.Errorf("key %q restored on worker %d, its owner is %d", c.key, c.worker, owner)
		}
	}
	if !maps.Equal(got, want) {
		t.Errorf("restored %v, want %v", got, want)
	}
}

// sortedLines is every line the run read, sorted.
func sortedLines(w *world) []string {
	var out []string
	for _, c := range w.calls("chain") {
		out = append(out, c.text)
	}
	slices.Sort(out)
	return out
}

// TestStopClosesTheEpochRead stops a recoverable run in the middle of an
// epoch and resumes it. With 3 workers, 2 source and 2 sink partitions, one
// worker reads nothing and owns no sink partition, and every line reaches
// one key owner only: some worker gets no data of the epoch being read when
// the stop comes. Every worker must still close that epoch, so the resume
// starts after it and no sink item is written twice (the fake guest's sink,
// like a non-file sink, keeps what it was given).
func TestStopClosesTheEpochRead(t *testing.T) {
	input := map[string]part{
		"a": {lines: []line{at(1, "x y"), at(12, "z"), at(22, "x")}, end: sec(40)},
		"b": {lines: []line{at(5, "y"), at(31, "z q")}, end: sec(35)},
	}
	for _, tc := range []struct {
		name   string
		stop   float64 // seconds
		resume uint64
		after  int // workers of the resumed run
	}{
		{"data in the epoch", 15, 3, 3},
		{"data in the epoch, resumed on 2 workers", 15, 3, 2},
		{"a later epoch with data", 25, 4, 3},
		{"no data in the epoch yet", 10.5, 3, 3},
		{"the first epoch", 9, 2, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			store := recovery.NewMemory()
			first := newWorld(input)
			if err := (run{workers: 3, store: store, stopAt: sec(tc.stop)}).exec(t, first); err != nil {
				t.Fatalf("first run: %v", err)
			}
			if got, want := sortedLines(first), linesBefore(input, sec(tc.stop)); !slices.Equal(got, want) {
				t.Fatalf("first run read %q, want the lines before the stop %q", got, want)
			}
			if e := resumeEpoch(t, store); e != tc.resume {
				t.Fatalf("resume epoch %d, want %d: the stop came in epoch %d, every worker closes it", e, tc.resume, tc.resume-1)
			}
			second := newWorld(input)
			if err := (run{workers: tc.after, store: store, start: sec(tc.stop)}).exec(t, second); err != nil {
				t.Fatalf("second run: %v", err)
			}
			checkOnce(t, input, first, second)
		})
	}
}

// checkOnce checks that the sinks got every item of the input exactly once
// across the runs.
func checkOnce(t *testing.T, input map[string]part, runs ...*world) {
	t.Helper()
	writes := map[string]int{}
	for _, w := range runs {
		for _, c := range w.calls("write") {
			writes[c.text]++
		}
	}
	if want := sinkItems(input); !maps.Equal(writes, want) {
		t.Errorf("sinks got (item: times) %v across the runs, want each of %v once", writes, slices.Sorted(maps.Keys(want)))
	}
}

// linesBefore is every line of the input available before d, sorted.
func linesBefore(parts map[string]part, d time.Duration) []string {
	var out []string
	for _, p := range parts {
		for _, l := range p.lines {
			if l.at < d {
				out = append(out, l.text)
			}
		}
	}
	slices.Sort(out)
	return out
}

// sinkItems is every item testGraph writes for the input, once each:
// "word=n" for every n up to the word's count.
func sinkItems(parts map[string]part) map[string]int {
	out := map[string]int{}
	for w, n := range wordCounts(parts) {
		for i := 1; i <= n; i++ {
			out[fmt.Sprintf("%s=%d", w, i)] = 1
		}
	}
	return out
}

// TestStopAcrossEpochs stops a cluster whose processes count epochs from
// different starts: B (worker 2) starts at 0s, A (workers 0 and 1) at 2s, so
// B reads "q" at 20.5s in its epoch 3 while A's workers are still in epoch
// 2. B stops first, then A, both at 21s. Every worker must close epoch 3,
// the sinks as well, though they hear of epoch 3 only from the stateful
// step before them, and only q's sink partition got data of it.
func TestStopAcrossEpochs(t *testing.T) {
	input := map[string]part{
		"p0": {lines: []line{at(1, "x y")}, end: sec(60)},
		"p1": {lines: []line{at(5, "y")}, end: sec(60)},
		"p2": {lines: []line{at(12, "z"), at(20.5, "q"), at(35, "x")}, end: sec(60)},
	}
	store := recovery.NewMemory()
	first := newWorld(input)
	b := process{first: 2, workers: 1, start: 0, stop: sec(21)}
	a := process{first: 0, workers: 2, start: sec(2), stop: sec(21)}
	if err := cluster(t, first, store, b, a); err != nil {
		t.Fatalf("first run: %v", err)
	}
	var read []string
	for _, c := range first.calls("chain") {
		read = append(read, fmt.Sprintf("%s in %d on %d", c.text, c.epoch, c.worker))
	}
	slices.Sort(read)
	if want := []string{"q in 3 on 2", "x y in 1 on 0", "y in 1 on 1", "z in 2 on 2"}; !slices.Equal(read, want) {
		t.Fatalf("first run read %q, want %q", read, want)
	}
	if e := resumeEpoch(t, store); e != 4 {
		t.Fatalf("resume epoch %d, want 4: B read epoch 3 before the stop, every worker closes it", e)
	}
	second := newWorld(input)
	if err := (run{workers: 3, store: store, start: sec(21)}).exec(t, second); err != nil {
		t.Fatalf("second run: %v", err)
	}
	checkOnce(t, input, first, second)
}
