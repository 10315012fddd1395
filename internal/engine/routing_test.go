package engine

import (
	"fmt"
	"maps"
	"strings"
	"testing"
)

// wordCounts is the oracle of testGraph: how often each word occurs in the
// input, counted here without the engine.
func wordCounts(parts map[string]part) map[string]int {
	want := map[string]int{}
	for _, p := range parts {
		for _, l := range p.lines {
			for _, w := range strings.Fields(l.text) {
				want[w]++
			}
		}
	}
	return want
}

// lastCounts is the last count the sinks got for each key.
func lastCounts(w *world) map[string]int {
	got := map[string]int{}
	for _, c := range w.calls("write") {
		var k string
		var n int
		if _, err := fmt.Sscanf(strings.Replace(c.text, "=", " ", 1), "%s %d", &k, &n); err == nil {
			got[k] = max(got[k], n)
		}
	}
	return got
}

func TestKeyWorkerIsPinned(t *testing.T) {
	// The owner of a key is XXH64 (seed 0) of its bytes modulo the worker
	// count. The digests are the reference implementation's published
	// values; they must never change, or resumed stores and running
	// clusters disagree on owners.
	for _, tc := range []struct {
		key    string
		digest uint64
	}{
		{"", 0xEF46DB3751D8E999}, {"a", 0xD24EC4F1A98C6E5B}, {"abc", 0x44BC2CF5AD770999},
	} {
		for _, total := range []int{1, 2, 3, 5} {
			if got, want := KeyWorker([]byte(tc.key), total), int(tc.digest%uint64(total)); got != want {
				t.Errorf("KeyWorker(%q, %d) = %d, want %d", tc.key, total, got, want)
			}
		}
	}
}

func TestRouting(t *testing.T) {
	input := map[string]part{
		"a": {lines: []line{at(0, "x y z"), at(1, "x y"), at(12, "w x")}, end: sec(12)},
		"b": {lines: []line{at(0, "y z"), at(25, "z z q")}, end: sec(30)},
		"c": {lines: []line{at(3, "q")}, end: sec(3)},
	}
	for _, workers := range []int{1, 2, 3, 5} {
		t.Run(fmt.Sprintf("%d workers", workers), func(t *testing.T) {
			w := newWorld(input)
			if err := (run{workers: workers}).exec(t, w); err != nil {
				t.Fatal(err)
			}
			if got, want := lastCounts(w), wordCounts(input); !maps.Equal(got, want) {
				t.Errorf("final counts %v, want %v", got, want)
			}
			for _, c := range w.calls("write") {
				key, _, _ := strings.Cut(c.text, "=")
				if want := w.sinks[KeyWorker([]byte(key), len(w.sinks))]; c.key != want {
					t.Errorf("key %q written to sink partition %s, want %s", key, c.key, want)
				}
			}
			for _, c := range w.calls("count") {
				if owner := KeyWorker([]byte(c.key), workers); c.worker != owner {
					t.Errorf("key %q counted on worker %d, its owner is %d", c.key, c.worker, owner)
				}
			}
		})
	}
}

// TestRoutingLargeBatches routes chain outputs bigger than one message
// (maxMessage), which go out in several messages, beside small ones.
func TestRoutingLargeBatches(t *testing.T) {
	var words []string
	for i := range 30_000 {
		words = append(words, fmt.Sprintf("w%06d", i%20_000))
	}
	input := map[string]part{
		"a": {lines: []line{at(0, strings.Join(words, " ")), at(1, "x y")}, end: sec(2)},
		"b": {lines: []line{at(0, "y z")}, end: sec(1)},
	}
	for _, workers := range []int{1, 2, 3} {
		t.Run(fmt.Sprintf("%d workers", workers), func(t *testing.T) {
			w := newWorld(input)
			if err := (run{workers: workers}).exec(t, w); err != nil {
				t.Fatal(err)
			}
			if got, want := lastCounts(w), wordCounts(input); !maps.Equal(got, want) {
				t.Errorf("final counts differ: %d keys, want %d", len(got), len(want))
			}
		})
	}
}
