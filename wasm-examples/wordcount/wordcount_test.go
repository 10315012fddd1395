//go:build !wasip1

package main

import (
	"bufio"
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

// TestWordcount runs the guest on one, two and four workers and checks that
// each run prints exactly the counts an independent count of the same file
// gives.
func TestWordcount(t *testing.T) {
	wasm := testutil.BuildWasm(t, ".")
	demo, err := os.ReadFile(filepath.Join("testdata", "demo.txt"))
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name  string
		input []byte
	}{
		{"demo", demo},
		{"generated", generated(5000)},
		{"crlf and blanks", []byte("Go go  GO\r\n\r\n\t gopher\tGo\r\nlast line without newline")},
		{"empty", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "input.txt"), tc.input, 0o644); err != nil {
				t.Fatal(err)
			}
			want := countWords(t, filepath.Join(dir, "input.txt"))
			for _, workers := range []int{1, 2, 4} {
				got := run(t, wasm, dir, workers)
				if !slices.Equal(got, want) {
					t.Errorf("-w%d: got %d lines, want %d\n got: %.300q\nwant: %.300q", workers, len(got), len(want), got, want)
				}
			}
		})
	}
}

// run runs get_flow('input.txt') in dir and returns the sorted output lines.
func run(t *testing.T, wasm, dir string, workers int) []string {
	t.Helper()
	var stdout bytes.Buffer
	opts := host.Options{WorkersPerProcess: workers, WorkDir: dir, Stdout: &stdout, CacheDir: testutil.CacheDir(t)}
	if err := host.Run(context.Background(), wasm, "get_flow('input.txt')", opts); err != nil {
		t.Fatalf("-w%d: %v", workers, err)
	}
	return sortedLines(stdout.String())
}

// countWords is the plain Go word count the flow must agree with.
func countWords(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	counts := map[string]int{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		for _, w := range strings.Fields(strings.ToLower(sc.Text())) {
			counts[w]++
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	for w, n := range counts {
		fmt.Fprintf(&out, "%s\t%d\n", w, n)
	}
	return sortedLines(out.String())
}

func sortedLines(s string) []string {
	lines := strings.Split(s, "\n")
	lines = slices.DeleteFunc(lines, func(l string) bool { return l == "" })
	slices.Sort(lines)
	return lines
}

// generated returns n lines of words drawn from a small vocabulary in mixed
// case, with irregular spacing, so words repeat across lines, batches and
// workers.
func generated(n int) []byte {
	vocab := []string{"Stream", "flow", "WASM", "key", "Epoch", "worker", "batch", "guest", "host", "ünïcode"}
	rng := rand.New(rand.NewPCG(1, 2))
	var b bytes.Buffer
	for range n {
		for j := range rng.IntN(9) {
			if j > 0 {
				b.WriteString([]string{" ", "  ", "\t"}[rng.IntN(3)])
			}
			b.WriteString(vocab[rng.IntN(len(vocab))])
		}
		b.WriteByte('\n')
	}
	return b.Bytes()
}
