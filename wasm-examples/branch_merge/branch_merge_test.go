//go:build !wasip1

package main

import (
	"context"
	"encoding/binary"
	"fmt"
	"slices"
	"strconv"
	"testing"

	"github.com/bxwasm/bxwasm/host"
	"github.com/bxwasm/bxwasm/internal/testutil"
)

// TestBranchMerge checks the merged output as a multiset against the
// numbers transformed without the flow, for the flow's own input and for
// numbers the test feeds in its place.
func TestBranchMerge(t *testing.T) {
	wasm := testutil.BuildWasm(t, ".")
	cases := []struct {
		name   string
		spec   string
		inputs []int // nil: the flow's own numbers 1..n
		want   []int
	}{
		{"one to ten", "get_flow(10)", nil, expected(span(1, 10))},
		{"one to five thousand", "get_flow(5000)", nil, expected(span(1, 5000))},
		{"nothing", "get_flow(0)", nil, nil},
		{"fed negatives and zero", "get_flow(1)", []int{-4, -3, 0, 7, 8, 1 << 20}, []int{16, 3, 0, -7, 64, 1 << 40}},
	}
	for _, tc := range cases {
		for _, workers := range []int{1, 2} {
			t.Run(fmt.Sprintf("%s/w%d", tc.name, workers), func(t *testing.T) {
				var inputs host.TestInputs
				if tc.inputs != nil {
					inputs = host.TestInputs{"branch_merge.inp": encodeInts(tc.inputs)}
				}
				opts := host.Options{WorkersPerProcess: workers, CacheDir: testutil.CacheDir(t)}
				out, err := host.TestRun(context.Background(), wasm, tc.spec, inputs, opts)
				if err != nil {
					t.Fatal(err)
				}
				got := atois(t, out.Strings("branch_merge.out"))
				want := slices.Sorted(slices.Values(tc.want))
				if !slices.Equal(got, want) {
					t.Errorf("got %v\nwant %v", got, want)
				}
			})
		}
	}
}

// expected transforms xs the way the flow should: evens squared, odds
// negated.
func expected(xs []int) []int {
	var out []int
	for _, x := range xs {
		if x%2 == 0 {
			out = append(out, x*x)
		} else {
			out = append(out, -x)
		}
	}
	return out
}

func span(from, to int) []int {
	var out []int
	for i := from; i <= to; i++ {
		out = append(out, i)
	}
	return out
}

// encodeInts writes ints as the SDK does: zig-zag varints.
func encodeInts(xs []int) [][]byte {
	items := make([][]byte, len(xs))
	for i, x := range xs {
		items[i] = binary.AppendVarint(nil, int64(x))
	}
	return items
}

// atois parses the output lines and sorts them.
func atois(t *testing.T, lines []string) []int {
	t.Helper()
	out := make([]int, 0, len(lines))
	for _, l := range lines {
		n, err := strconv.Atoi(l)
		if err != nil {
			t.Fatalf("bad output line %q", l)
		}
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}
