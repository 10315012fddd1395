//go:build !wasip1

package main

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/bxwasm/bxwasm/host"
	"github.com/bxwasm/bxwasm/internal/testutil"
)

// TestWindowCount runs the flow on one and two workers and checks its
// output file: on events worked out by hand (a late event, one exactly at
// the watermark, negative ids, malformed lines), and on generated events
// with a little disorder and none late, against a plain count per key and
// minute.
func TestWindowCount(t *testing.T) {
	wasm := testutil.BuildWasm(t, ".")
	gen := generated(5000)
	cases := []struct {
		name  string
		input string
		want  []string
	}{
		{"by hand", "a,60000\nb,59999\na,119999\na,150000\na,110000\na,125000\njunk\nb,29999\nb,-60000\nc,1,2\n",
			[]string{"a 1 2", "a 2 2", "b 0 2"}},
		{"negative ids", "z,-60001\nz,-1\n", []string{"z -1 1", "z -2 1"}},
		{"generated", gen, model(gen)},
		{"empty", "", nil},
	}
	for _, tc := range cases {
		for _, workers := range []int{1, 2} {
			t.Run(fmt.Sprintf("%s/w%d", tc.name, workers), func(t *testing.T) {
				got := run(t, wasm, tc.input, workers)
				if !slices.Equal(got, tc.want) {
					t.Errorf("got %d lines, want %d\n got %.400q\nwant %.400q", len(got), len(tc.want), got, tc.want)
				}
			})
		}
	}
}

// run writes input to a file, runs the flow and returns the sorted lines
// of its output file.
func run(t *testing.T, wasm, input string, workers int) []string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "events.txt"), []byte(input), 0o644); err != nil {
		t.Fatal(err)
	}
	opts := host.Options{WorkersPerProcess: workers, WorkDir: dir, Stdout: &bytes.Buffer{}, CacheDir: testutil.CacheDir(t)}
	if err := host.Run(context.Background(), wasm, "flow('events.txt', 'counts.txt')", opts); err != nil {
		t.Fatal(err)
	}
	out, err := os.ReadFile(filepath.Join(dir, "counts.txt"))
	if err != nil {
		t.Fatal(err)
	}
	lines := slices.DeleteFunc(strings.Split(string(out), "\n"), func(l string) bool { return l == "" })
	slices.Sort(lines)
	return lines
}

// model counts every event per key and minute: right for inputs without
// late events.
func model(input string) []string {
	counts := map[string]int{}
	for _, l := range strings.Split(input, "\n") {
		if e, ok := parse(l); ok {
			min := e.Millis / 60_000
			if e.Millis < 0 && e.Millis%60_000 != 0 {
				min--
			}
			counts[fmt.Sprintf("%s %d", e.Key, min)]++
		}
	}
	var out []string
	for k, n := range counts {
		out = append(out, fmt.Sprintf("%s %d", k, n))
	}
	slices.Sort(out)
	return out
}

// generated returns n events of 20 keys, 100 ms apart, one in eight up
// to 5 s early: well inside the 30 s wait, so none is late.
func generated(n int) string {
	rng := rand.New(rand.NewPCG(11, 12))
	var b strings.Builder
	for i := range n {
		ms := 1_704_067_200_000 + int64(i)*100
		if rng.IntN(8) == 0 {
			ms -= rng.Int64N(5000)
		}
		fmt.Fprintf(&b, "k%02d,%d\n", rng.IntN(20), ms)
	}
	return b.String()
}
