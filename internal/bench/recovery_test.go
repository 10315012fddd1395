package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestWriteKeys checks that the keys file holds n distinct lines.
func TestWriteKeys(t *testing.T) {
	for _, tc := range []struct {
		name string
		n    int
	}{
		{"none", 0},
		{"one", 1},
		{"many", 12_345},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "keys.txt")
			if err := writeKeys(path, tc.n); err != nil {
				t.Fatal(err)
			}
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			lines := strings.Fields(string(b))
			seen := map[string]bool{}
			for _, l := range lines {
				seen[l] = true
			}
			if len(lines) != tc.n || len(seen) != tc.n || bytes.Count(b, []byte("\n")) != tc.n {
				t.Errorf("%d lines, %d distinct, want %d of each", len(lines), len(seen), tc.n)
			}
		})
	}
}

// TestDirSize checks that a directory's size is the sum of its files',
// subdirectories included.
func TestDirSize(t *testing.T) {
	dir := t.TempDir()
	files := map[string]int{"a": 10, "b": 0, "sub/c": 1000}
	for name, n := range files {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, make([]byte, n), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cases := []struct {
		name string
		dir  string
		want int64
		err  bool
	}{
		{"tree", dir, 1010, false},
		{"subdirectory", filepath.Join(dir, "sub"), 1000, false},
		{"missing", filepath.Join(dir, "nope"), 0, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := dirSize(tc.dir)
			if (err != nil) != tc.err || got != tc.want {
				t.Errorf("dirSize = %d, %v; want %d, error %v", got, err, tc.want, tc.err)
			}
		})
	}
}

func TestRestoreSeconds(t *testing.T) {
	cases := []struct {
		name, stderr string
		want         float64
		ok           bool
	}{
		{"reported", "bxwasm: workers 0-0 resumed from epoch 7: 10 keys and 1 partition positions restored in 1.5s\n", 1.5, true},
		{"milliseconds", "x restored in 250ms\n", 0.25, true},
		{"silent", "", 0, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, ok := restoreSeconds(c.stderr)
			if got != c.want || ok != c.ok {
				t.Errorf("restoreSeconds(%q) = %v, %v; want %v, %v", c.stderr, got, ok, c.want, c.ok)
			}
		})
	}
}
