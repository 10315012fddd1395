//go:build linux

package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestCompareSorted(t *testing.T) {
	cases := []struct {
		name        string
		want, got   string
		missing     int
		extra       int
		firstMiss   []string
		firstExtra  []string
		shouldEqual bool
	}{
		{name: "equal", want: "a 1 a 2 b 1", got: "a 1 a 2 b 1", shouldEqual: true},
		{name: "both empty", shouldEqual: true},
		{name: "missing", want: "a 1 a 2 b 1", got: "a 1 b 1", missing: 1, firstMiss: []string{"a 2"}},
		{name: "repeated", want: "a 1 b 1", got: "a 1 a 1 b 1 b 1", extra: 2, firstExtra: []string{"a 1", "b 1"}},
		{name: "nothing written", want: "a 1 b 1", missing: 2, firstMiss: []string{"a 1", "b 1"}},
		{name: "missing and extra", want: "a 1 c 1", got: "b 1 c 1", missing: 1, extra: 1,
			firstMiss: []string{"a 1"}, firstExtra: []string{"b 1"}},
		{name: "samples capped", want: "", got: "a 1 b 1 c 1 d 1 e 1 f 1 g 1", extra: 7,
			firstExtra: []string{"a 1", "b 1", "c 1", "d 1", "e 1"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := compareSorted(pairs(tc.want), pairs(tc.got))
			if d.Equal() != tc.shouldEqual || d.Missing != tc.missing || d.Extra != tc.extra {
				t.Fatalf("got %s", d)
			}
			if !slices.Equal(d.FirstMissing, tc.firstMiss) || !slices.Equal(d.FirstExtra, tc.firstExtra) {
				t.Fatalf("samples: got %q and %q, want %q and %q", d.FirstMissing, d.FirstExtra, tc.firstMiss, tc.firstExtra)
			}
		})
	}
}

// pairs turns "a 1 b 2" into the sorted lines "a 1", "b 2".
func pairs(s string) []string {
	f := strings.Fields(s)
	var lines []string
	for i := 0; i+1 < len(f); i += 2 {
		lines = append(lines, f[i]+" "+f[i+1])
	}
	slices.Sort(lines)
	return lines
}

func TestOutputLines(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "out.txt")
	if err := os.WriteFile(path, []byte("b 1\na 2\na 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		path string
		want []string
	}{
		{"sorted", path, []string{"a 1", "a 2", "b 1"}},
		{"missing file", filepath.Join(dir, "none.txt"), nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := outputLines(tc.path)
			if err != nil || !slices.Equal(got, tc.want) {
				t.Fatalf("got %q, %v, want %q", got, err, tc.want)
			}
		})
	}
}
