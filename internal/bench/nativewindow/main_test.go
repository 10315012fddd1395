package main

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestRun checks the counts of a small file worked out by hand: window
// ids count minutes from the Unix epoch, a window closes once the key's
// newest event is 30 s past its end, an event older than the newest minus
// 30 s is late and dropped, and a malformed line is skipped.
func TestRun(t *testing.T) {
	input := strings.Join([]string{
		"a,60000",  // a: window 1
		"b,59999",  // b: window 0
		"a,119999", // a: window 1
		"a,150000", // a: window 2; a's watermark 120000 closes window 1
		"a,110000", // late: 110000 < 120000
		"a,125000", // on time, window 2
		"junk",
		"b,29999", // b: window 0, on time: exactly at the watermark 59999-30000
		"c,1,2",   // not a number: skipped
		"a,60001", // late
	}, "\n") + "\n"
	path := filepath.Join(t.TempDir(), "events.txt")
	if err := os.WriteFile(path, []byte(input), 0o644); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := run(path, &out); err != nil {
		t.Fatal(err)
	}
	got := strings.Split(strings.TrimSpace(out.String()), "\n")
	slices.Sort(got)
	want := []string{"a 1 2", "a 2 2", "b 0 2"}
	if !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}
