//go:build !wasip1

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/bxwasm/bxwasm/host"
	"github.com/bxwasm/bxwasm/internal/testutil"
)

// TestNumberPart drains partitions natively, fresh and resumed, and checks
// the numbers, the EOF and the snapshot positions.
func TestNumberPart(t *testing.T) {
	src := Numbers{Parts: 3, PerPart: 10, BatchSize: 4}
	cases := []struct {
		name    string
		part    string
		resume  *int
		want    []int
		batches int
	}{
		{"first part", "part-0", nil, seq(0, 10), 3},
		{"last part", "part-2", nil, seq(20, 30), 3},
		{"resumed mid-range", "part-1", ptr(7), seq(17, 20), 1},
		{"resumed at end", "part-1", ptr(10), nil, 1},
		{"resume past end is clamped", "part-1", ptr(99), nil, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := src.BuildPart("custom_source.numbers", tc.part, tc.resume)
			var got []int
			for i := 1; ; i++ {
				batch, err := p.NextBatch()
				got = append(got, batch...)
				if errors.Is(err, io.EOF) {
					if i != tc.batches {
						t.Errorf("EOF after %d batches, want %d", i, tc.batches)
					}
					break
				}
				if err != nil || i > 100 {
					t.Fatalf("batch %d: err %v", i, err)
				}
				if s := p.Snapshot(); s != len(got)+start(tc.resume) {
					t.Errorf("snapshot %d after %d numbers", s, len(got))
				}
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
			if p.Snapshot() != src.PerPart {
				t.Errorf("snapshot at EOF = %d, want %d", p.Snapshot(), src.PerPart)
			}
		})
	}
}

// TestCustomSource runs the flow through the host and checks that every
// number arrives exactly once, and that the partitions are read by as many
// workers as there are partitions to go round.
func TestCustomSource(t *testing.T) {
	wasm := testutil.BuildWasm(t, ".")
	cases := []struct{ parts, perPart, workers int }{
		{1, 1000, 1},
		{5, 1000, 1},
		{1, 1000, 3},
		{5, 1000, 3},
		{7, 0, 3},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprintf("parts=%d,per_part=%d,w%d", tc.parts, tc.perPart, tc.workers), func(t *testing.T) {
			var out testutil.Buffer
			opts := host.Options{WorkersPerProcess: tc.workers, Stdout: &out, CacheDir: testutil.CacheDir(t)}
			spec := fmt.Sprintf("get_flow(%d, %d)", tc.parts, tc.perPart)
			if err := host.Run(context.Background(), wasm, spec, opts); err != nil {
				t.Fatal(err)
			}
			nums, writers := parse(t, out.String())
			slices.Sort(nums)
			if want := seq(0, tc.parts*tc.perPart); !slices.Equal(nums, want) {
				t.Errorf("got %d numbers, want each of [0, %d) once", len(nums), len(want))
			}
			if want := min(tc.parts, tc.workers); tc.perPart > 0 && len(writers) != want {
				t.Errorf("numbers written by workers %v, want %d workers", writers, want)
			}
		})
	}
}

// TestBadArguments checks that the factory's own error reaches the caller.
func TestBadArguments(t *testing.T) {
	wasm := testutil.BuildWasm(t, ".")
	opts := host.Options{Stdout: io.Discard, CacheDir: testutil.CacheDir(t)}
	err := host.Run(context.Background(), wasm, "get_flow(0, 10)", opts)
	if err == nil || !strings.Contains(err.Error(), "need parts >= 1") {
		t.Fatalf("got %v, want the factory's error", err)
	}
}

// parse reads "w<worker><TAB><number>" lines.
func parse(t *testing.T, s string) (nums []int, writers map[string]bool) {
	t.Helper()
	writers = map[string]bool{}
	for _, l := range strings.Split(strings.TrimSuffix(s, "\n"), "\n") {
		if l == "" {
			continue
		}
		w, n, ok := strings.Cut(l, "\t")
		v, err := strconv.Atoi(n)
		if !ok || err != nil || !strings.HasPrefix(w, "w") {
			t.Fatalf("bad output line %q", l)
		}
		nums = append(nums, v)
		writers[w] = true
	}
	return nums, writers
}

func seq(from, to int) []int {
	var out []int
	for i := from; i < to; i++ {
		out = append(out, i)
	}
	return out
}

func ptr(n int) *int { return &n }

func start(resume *int) int {
	if resume == nil {
		return 0
	}
	return min(*resume, 10)
}
