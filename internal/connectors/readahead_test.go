package connectors

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
	"time"
)

// TestFileSourceReadsAhead reads a file partition in its own goroutine:
// after the first Next the following batches get read without the worker
// asking, while the snapshot stays after the lines handed out. A later,
// smaller max hands a batch read ahead out in parts, each part moving the
// position by exactly its lines.
func TestFileSourceReadsAhead(t *testing.T) {
	var lines []string
	for i := range 20 {
		lines = append(lines, strings.Repeat("w", i))
	}
	content := strings.Join(lines, "\n") + "\n"
	p, _ := openFile(t, content, nil)
	ra := p.(*filePart).lines

	eof, got := poll(t, p, 4)
	if eof || !reflect.DeepEqual(got, lines[:4]) {
		t.Fatalf("first batch: eof %v, %q", eof, got)
	}
	for deadline := time.Now().Add(10 * time.Second); len(ra.ready) < aheadBatches; {
		if time.Now().After(deadline) {
			t.Fatalf("%d batches read ahead after 10s, want %d", len(ra.ready), aheadBatches)
		}
		time.Sleep(time.Millisecond)
	}
	offset := func(n int) int { return len(strings.Join(lines[:n], "\n")) + 1 }
	if snap, want := p.Snapshot(), positionAt(content, offset(4)); !bytes.Equal(snap, want) {
		t.Fatalf("snapshot after 4 lines with %d batches read ahead: %v, want %v", aheadBatches, snap, want)
	}
	read := 4
	for _, max := range []int{1, 2, 1, 4, 3} {
		_, got := poll(t, p, max)
		if !reflect.DeepEqual(got, lines[read:read+max]) {
			t.Fatalf("max %d after %d lines: got %q, want %q", max, read, got, lines[read:read+max])
		}
		read += max
		if snap, want := p.Snapshot(), positionAt(content, offset(read)); !bytes.Equal(snap, want) {
			t.Fatalf("snapshot after %d lines: %v, want %v", read, snap, want)
		}
	}
	if got := drain(t, p, 4); !reflect.DeepEqual(got, lines[read:]) {
		t.Fatalf("the rest: got %q, want %q", got, lines[read:])
	}
}

// TestFileSourceCloseWhileReadingAhead closes a partition whose goroutine
// waits to hand over a batch; Close returns, and a second Close does not
// panic.
func TestFileSourceCloseWhileReadingAhead(t *testing.T) {
	p, _ := openFile(t, strings.Repeat("line\n", 100), nil)
	poll(t, p, 1)
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	p.Close() // the test's cleanup closes it a third time
}
