package connectors

import (
	"errors"
	"fmt"
	"reflect"
	"sort"
	"sync"
	"testing"

	"github.com/bxwasm/bxwasm/guest-sdk/go/abi"
)

func bytesOf(vals ...string) [][]byte {
	var out [][]byte
	for _, v := range vals {
		out = append(out, []byte(v))
	}
	return out
}

func TestMemorySource(t *testing.T) {
	items := bytesOf("a", "b", "c", "d", "e")
	tests := []struct {
		name      string
		batchSize int
		max       int
		resume    []byte
		want      [][]string // values of each Next
	}{
		{"batch size limits", 2, 10, nil, [][]string{{"a", "b"}, {"c", "d"}, {"e"}}},
		{"max limits", 10, 3, nil, [][]string{{"a", "b", "c"}, {"d", "e"}}},
		{"no batch size", 0, 10, nil, [][]string{{"a", "b", "c", "d", "e"}}},
		{"resume", 2, 10, encodeOffset(3), [][]string{{"d", "e"}}},
		{"resume at end", 2, 10, encodeOffset(5), [][]string{nil}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := NewMemorySource(items, tt.batchSize)
			if parts, _ := src.Parts(); !reflect.DeepEqual(parts, []string{MemoryPart}) {
				t.Fatalf("Parts = %q", parts)
			}
			p, err := src.Open(MemoryPart, tt.resume)
			if err != nil {
				t.Fatal(err)
			}
			for i, want := range tt.want {
				eof, got := poll(t, p, tt.max)
				if !reflect.DeepEqual(got, want) || eof != (i == len(tt.want)-1) {
					t.Fatalf("Next %d = %q eof %v, want %q", i, got, eof, want)
				}
			}
			if snap := p.Snapshot(); !reflect.DeepEqual(snap, encodeOffset(int64(len(items)))) {
				t.Fatalf("final snapshot %v", snap)
			}
		})
	}
}

func TestMemorySourceOpenErrors(t *testing.T) {
	src := NewMemorySource(bytesOf("a"), 1)
	if _, err := src.Open("other", nil); !errors.Is(err, ErrUnknownPart) {
		t.Errorf("Open(other): %v", err)
	}
	if _, err := src.Open(MemoryPart, encodeOffset(2)); !errors.Is(err, ErrBadResume) {
		t.Errorf("resume past the end: %v", err)
	}
}

func TestCapture(t *testing.T) {
	var c Capture // the zero value is ready
	const workers = 4
	var wg sync.WaitGroup
	for w := range workers {
		p, err := c.Open(w, workers)
		if err != nil {
			t.Fatal(err)
		}
		wg.Go(func() {
			for i := range 20 {
				b := batch(fmt.Sprintf("w%d-%02d", w, i), "")
				if err := p.Write(b); err != nil {
					t.Error(err)
				}
				for j := range b.Body { // the capture must hold copies
					b.Body[j] = '!'
				}
			}
		})
	}
	wg.Wait()
	var got []string
	for _, v := range c.Items() {
		got = append(got, string(v))
	}
	sort.Strings(got)
	var want []string
	for w := range workers {
		for i := range 20 {
			want = append(want, "", fmt.Sprintf("w%d-%02d", w, i))
		}
	}
	sort.Strings(want)
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("captured %q\nwant %q", got, want)
	}
}

func TestCaptureRefusesBadBatch(t *testing.T) {
	var c Capture
	p, _ := c.Open(0, 1)
	if err := p.Write(abi.Batch{N: 2, Body: []byte{0, 1, 'x'}}); !errors.Is(err, abi.ErrBatchCount) {
		t.Fatalf("Write of a short batch: %v", err)
	}
	if len(c.Items()) != 0 {
		t.Fatalf("captured %q from a bad batch", c.Items())
	}
}
