//go:build !wasip1

package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/bxwasm/bxwasm/host"
	"github.com/bxwasm/bxwasm/internal/recovery"
	"github.com/bxwasm/bxwasm/internal/testutil"
)

// countStep is the step whose state holds the count of every key.
const countStep = "keys.count.stateful_flat_map.stateful.stateful_batch"

// TestKeys checks that the flow prints every count past the first of a
// repeated key, on one and on two workers.
func TestKeys(t *testing.T) {
	wasm := testutil.BuildWasm(t, ".")
	cases := []struct {
		name string
		keys []string
		want []string
	}{
		{"distinct", []string{"a", "b", "c"}, nil},
		{"repeats", []string{"a", "b", "a", "c", "a", "b"}, []string{"a\t2", "a\t3", "b\t2"}},
		{"empty", nil, nil},
	}
	for _, tc := range cases {
		for _, workers := range []int{1, 2} {
			t.Run(fmt.Sprintf("%s/w%d", tc.name, workers), func(t *testing.T) {
				var items [][]byte
				for _, k := range tc.keys {
					items = append(items, []byte(k))
				}
				opts := host.Options{WorkersPerProcess: workers, CacheDir: testutil.CacheDir(t)}
				out, err := host.TestRun(context.Background(), wasm, "get_flow('unused')",
					host.TestInputs{"keys.inp": items}, opts)
				if err != nil {
					t.Fatal(err)
				}
				got := out.Strings("keys.out")
				slices.Sort(got)
				if !slices.Equal(got, tc.want) {
					t.Errorf("got %q, want %q", got, tc.want)
				}
			})
		}
	}
}

// TestKeysResume checks that the counts outlive EOF: a rerun on the same
// store holds one snapshot per key and prints nothing, and a rerun after
// lines were appended to the file reads only those and counts an old key
// among them as a repeat.
func TestKeysResume(t *testing.T) {
	wasm := testutil.BuildWasm(t, ".")
	dir := t.TempDir()
	keys := filepath.Join(dir, "keys.txt")
	store := filepath.Join(dir, "store")
	run := func(lines ...string) string {
		t.Helper()
		if err := os.WriteFile(keys, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		opts := host.Options{CacheDir: testutil.CacheDir(t), WorkDir: dir, RecoveryDir: store,
			Stdout: &out, Stderr: os.Stderr}
		if err := host.Run(context.Background(), wasm, "get_flow('keys.txt')", opts); err != nil {
			t.Fatal(err)
		}
		return out.String()
	}
	if out := run("a", "b", "c"); out != "" {
		t.Errorf("first run printed %q", out)
	}
	if out := run("a", "b", "c"); out != "" {
		t.Errorf("rerun printed %q", out)
	}
	sum, err := recovery.Inspect(context.Background(), store)
	if err != nil {
		t.Fatal(err)
	}
	if n := snapshots(sum, countStep); n != 3 {
		t.Errorf("store holds %d snapshots of %s, want 3: %+v", n, countStep, sum)
	}
	if out := run("a", "b", "c", "a", "d"); out != "a\t2\n" {
		t.Errorf("run on appended keys printed %q, want %q", out, "a\t2\n")
	}
}

func snapshots(sum recovery.Summary, step string) int {
	for _, s := range sum.Steps {
		if s.StepID == step {
			return int(s.Snapshots)
		}
	}
	return -1
}
