package engine

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestTimers checks that on_notify runs at the fake time notify_at asked
// for, on the worker owning the key, and what it emits reaches the sink.
func TestTimers(t *testing.T) {
	for _, tc := range []struct {
		name   string
		notify time.Duration
		lines  []line
		end    time.Duration
		want   []string // "key@count at seconds", in order
	}{
		{"fires at its time", 5 * time.Second, []line{at(1, "x")}, sec(30), []string{"x@1 at 6s"}},
		{"a later item moves it", 5 * time.Second, []line{at(1, "x"), at(3, "x")}, sec(30), []string{"x@2 at 8s"}},
		{"keys fire apart", 5 * time.Second, []line{at(1, "x"), at(2.5, "y")}, sec(30),
			[]string{"x@1 at 6s", "y@1 at 7.5s"}},
		{"across epochs", 15 * time.Second, []line{at(1, "x y"), at(5, "y"), at(12, "x")}, sec(40),
			[]string{"y@2 at 20s", "x@2 at 27s"}},
		{"the end drops pending timers", 5 * time.Second, []line{at(1, "x")}, sec(2), nil},
	} {
		for _, workers := range []int{1, 2} {
			t.Run(fmt.Sprintf("%s/%d workers", tc.name, workers), func(t *testing.T) {
				w := newWorld(map[string]part{"p": {lines: tc.lines, end: tc.end}})
				w.notify = tc.notify
				if err := (run{workers: workers}).exec(t, w); err != nil {
					t.Fatal(err)
				}
				var got []string
				for _, c := range w.calls("notify") {
					got = append(got, fmt.Sprintf("%s at %s", c.text, c.at))
					if owner := KeyWorker([]byte(c.key), workers); c.worker != owner {
						t.Errorf("%q notified on worker %d, its owner is %d", c.key, c.worker, owner)
					}
				}
				if !slices.Equal(got, tc.want) {
					t.Errorf("notified %q, want %q", got, tc.want)
				}
				var written []string
				for _, c := range w.calls("write") {
					written = append(written, c.text)
				}
				for _, n := range tc.want {
					text, _, _ := strings.Cut(n, " at ")
					if !slices.Contains(written, text) {
						t.Errorf("the sink did not get %q; it got %q", text, written)
					}
				}
			})
		}
	}
}

// TestTimersCompact checks that moving the timers of a few keys many
// times keeps the heap bounded, and that every key still fires once, at
// its last time.
func TestTimersCompact(t *testing.T) {
	tm := newTimers()
	for i := range 100_000 {
		key := fmt.Sprintf("k%d", i%10)
		tm.set(key, int64(1_000_000-i)) // every call moves a key's time earlier
	}
	if n := len(tm.heap); n > 2*10+compactFloor {
		t.Errorf("the heap holds %d entries for 10 live timers, want at most %d", n, 2*10+compactFloor)
	}
	// The last calls set k6..k9 to 900,004..900,001 and k0..k5 later.
	if got := tm.due(900_004); !slices.Equal(got, []string{"k9", "k8", "k7", "k6"}) {
		t.Errorf("due at 900,004 = %q, want k9, k8, k7, k6", got)
	}
	if got := tm.due(1_000_000); !slices.Equal(got, []string{"k5", "k4", "k3", "k2", "k1", "k0"}) {
		t.Errorf("due at the end = %q, want k5 down to k0", got)
	}
	if next, ok := tm.next(); ok {
		t.Errorf("a timer is left at %d after every key fired", next)
	}
}
