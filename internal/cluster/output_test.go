package cluster

import (
	"bytes"
	"strings"
	"sync"
	"testing"
)

func TestLineWriter(t *testing.T) {
	for _, tc := range []struct {
		name      string
		writes    []string
		beforeEnd string // what dst holds before flush
		after     string // and after
	}{
		{"whole lines pass", []string{"a\nb\n"}, "a\nb\n", "a\nb\n"},
		{"split line waits", []string{"hel", "lo\nwor"}, "hello\n", "hello\nwor"},
		{"no newline", []string{"x", "y"}, "", "xy"},
		{"huge partial line", []string{strings.Repeat("z", maxPartialLine+1)},
			strings.Repeat("z", maxPartialLine+1), strings.Repeat("z", maxPartialLine+1)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var dst bytes.Buffer
			w := &lineWriter{dst: &syncWriter{mu: &sync.Mutex{}, w: &dst}}
			for _, s := range tc.writes {
				if n, err := w.Write([]byte(s)); n != len(s) || err != nil {
					t.Fatalf("Write = %d, %v", n, err)
				}
			}
			if dst.String() != tc.beforeEnd {
				t.Fatalf("before flush: %q, want %q", dst.String(), tc.beforeEnd)
			}
			w.flush()
			if dst.String() != tc.after {
				t.Fatalf("after flush: %q, want %q", dst.String(), tc.after)
			}
		})
	}
}
