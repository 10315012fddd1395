package engine

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"
)

func TestNextEpoch(t *testing.T) {
	end := t0.Add(10 * time.Second)
	for _, tc := range []struct {
		name      string
		interval  time.Duration
		now       time.Time
		wantEpoch uint64
		wantEnd   time.Time
	}{
		{"before the end stays", 10 * time.Second, end.Add(-1), 1, end},
		{"at the end moves one", 10 * time.Second, end, 2, end.Add(10 * time.Second)},
		{"inside the next moves one", 10 * time.Second, end.Add(9 * time.Second), 2, end.Add(10 * time.Second)},
		{"slept through three", 10 * time.Second, end.Add(35 * time.Second), 5, end.Add(40 * time.Second)},
		{"1ns, an hour late", time.Nanosecond, end.Add(time.Hour), 2 + uint64(time.Hour), end.Add(time.Hour + 1)},
		{"1ns, a century late", time.Nanosecond, end.Add(100 * 365 * 24 * time.Hour),
			2 + uint64(100*365*24*time.Hour), end.Add(100*365*24*time.Hour + 1)},
		{"1ms, a day late", time.Millisecond, end.Add(24*time.Hour + time.Microsecond),
			2 + uint64(24*time.Hour/time.Millisecond), end.Add(24*time.Hour + time.Millisecond)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			epoch, next := nextEpoch(1, end, tc.interval, tc.now)
			if epoch != tc.wantEpoch || !next.Equal(tc.wantEnd) {
				t.Errorf("nextEpoch = %d, %v; want %d, %v", epoch, next.Sub(t0), tc.wantEpoch, tc.wantEnd.Sub(t0))
			}
		})
	}
}

// TestEpochs checks which epoch each line is read in, and that the
// stateful step counts it as soon as it is read (every worker's frontier is
// at its epoch by then).
func TestEpochs(t *testing.T) {
	for _, tc := range []struct {
		name     string
		interval time.Duration
		lines    []line
		want     []uint64 // the epoch of each line
	}{
		{"first interval is epoch 1", 10 * time.Second, []line{at(0, "a"), at(9.999, "b")}, []uint64{1, 1}},
		{"the boundary belongs to the next", 10 * time.Second, []line{at(10, "a"), at(19, "b"), at(20, "c")}, []uint64{2, 2, 3}},
		{"idle epochs are skipped", 10 * time.Second, []line{at(1, "a"), at(95, "b")}, []uint64{1, 10}},
		{"short interval", time.Second, []line{at(0.5, "a"), at(1.5, "b"), at(7, "c")}, []uint64{1, 2, 8}},
	} {
		for _, workers := range []int{1, 3} {
			t.Run(fmt.Sprintf("%s/%d workers", tc.name, workers), func(t *testing.T) {
				end := tc.lines[len(tc.lines)-1].at
				w := newWorld(map[string]part{"p": {lines: tc.lines, end: end}})
				if err := (run{workers: workers, interval: tc.interval}).exec(t, w); err != nil {
					t.Fatal(err)
				}
				var got []uint64
				for _, c := range w.calls("chain") {
					got = append(got, c.epoch)
				}
				if !slices.Equal(got, tc.want) {
					t.Errorf("epochs %v, want %v", got, tc.want)
				}
				counts := w.calls("count")
				if len(counts) != len(tc.lines) {
					t.Fatalf("%d counts, want %d", len(counts), len(tc.lines))
				}
				for i, c := range counts {
					if c.at != tc.lines[i].at {
						t.Errorf("%q counted at %s, read at %s", c.key, c.at, tc.lines[i].at)
					}
				}
			})
		}
	}
}

// TestTinyEpochInterval moves the clock an hour at once under a 1ns epoch
// interval: the tick jumps to the epoch of now (stepping would take 3.6e12
// rounds), and the run still ends on cancellation.
func TestTinyEpochInterval(t *testing.T) {
	for _, tc := range []struct {
		name   string
		end    time.Duration // when the partition ends
		cancel bool
	}{
		{"ends", time.Hour, false},
		{"is cancelled", 1000 * time.Hour, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(map[string]part{"p": {lines: []line{at(3600, "x")}, end: tc.end}})
			r := run{workers: 2, interval: time.Nanosecond}
			cfg, clk := r.config(t, w)
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			done := make(chan error, 1)
			go func() { done <- Run(ctx, cfg) }()
			waitFor(t, "the workers to wait", func() bool { _, ok := clk.idle(upTo(r.workers)); return ok })
			clk.advance(time.Hour)
			waitFor(t, "the line to be read", func() bool { return len(w.calls("count")) == 1 })
			if got, want := w.calls("chain")[0].epoch, 1+uint64(time.Hour); got != want {
				t.Errorf("read in epoch %d, want %d", got, want)
			}
			if tc.cancel {
				cancel()
			}
			select {
			case err := <-done:
				if tc.cancel && !errors.Is(err, context.Canceled) || !tc.cancel && err != nil {
					t.Fatalf("Run = %v", err)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("Run did not return within 10s")
			}
		})
	}
}

// waitFor polls cond for up to 10s of real time.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(100 * time.Microsecond)
	}
}
