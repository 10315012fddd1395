//go:build !wasip1

package main

import (
	"context"
	"slices"
	"testing"

	"github.com/bxwasm/bxwasm/host"
	"github.com/bxwasm/bxwasm/internal/testutil"
)

// TestStreamCount checks the flow's counts on one and two workers, with the
// stream replaced by test inputs.
func TestStreamCount(t *testing.T) {
	wasm := testutil.BuildWasm(t, ".")
	var items [][]byte
	for _, k := range []string{"a", "b", "a", "c", "a", "b"} {
		items = append(items, []byte(k))
	}
	want := []string{"a 3", "b 2", "c 1"}
	for _, workers := range []int{1, 2} {
		opts := host.Options{WorkersPerProcess: workers, CacheDir: testutil.CacheDir(t)}
		out, err := host.TestRun(context.Background(), wasm, "flow('EVENTS', 'counts')",
			host.TestInputs{"streamcount.inp": items}, opts)
		if err != nil {
			t.Fatal(err)
		}
		got := out.Strings("streamcount.out")
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("-w%d: got %q, want %q", workers, got, want)
		}
	}
}
