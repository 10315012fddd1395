package abi

import (
	"errors"
	"testing"
)

// TestUnkeyed checks the one-pass scan against the item iterator on
// well-formed and malformed bodies, multi-byte lengths included.
func TestUnkeyed(t *testing.T) {
	long := make([]byte, 300) // a two-byte length
	var mixed Batch
	mixed.Append([]byte("k"), true, []byte("v"))
	mixed.Append(nil, false, long)
	mixed.Append(long[:200], true, nil)
	mixed.Append(nil, false, []byte("x"))
	tests := []struct {
		name    string
		b       Batch
		unkeyed int
		err     error
	}{
		{"empty", Batch{}, 0, nil},
		{"mixed", mixed, 2, nil},
		{"empty key is a key", Batch{N: 1, Body: []byte{0x01, 0x00}}, 0, nil},
		{"worked example", Batch{N: 2, Body: []byte{0x03, 'a', 'b', 0x02, 'h', 'i', 0x02, 'c', 0x03, 'x', 'y', 'z'}}, 0, nil},
		{"count too high", Batch{N: mixed.N + 1, Body: mixed.Body}, 0, ErrBatchCount},
		{"count too low", Batch{N: mixed.N - 1, Body: mixed.Body}, 0, ErrBatchCount},
		{"key past the end", Batch{N: 1, Body: []byte{0x05, 'a', 0x00}}, 0, ErrBatchCount},
		{"value past the end", Batch{N: 1, Body: []byte{0x00, 0x03, 'a'}}, 0, ErrBatchCount},
		{"truncated varint", Batch{N: 1, Body: []byte{0x00, 0x80}}, 0, ErrBatchCount},
		{"varint over 64 bits", Batch{N: 1, Body: []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}}, 0, ErrBatchCount},
		{"negative count", Batch{N: -1}, 0, ErrBatchCount},
		{"huge count, small body", Batch{N: 1 << 40, Body: []byte{0x00, 0x00}}, 0, ErrBatchCount},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err := tt.b.Unkeyed()
			if n != tt.unkeyed || !errors.Is(err, tt.err) {
				t.Fatalf("Unkeyed() = %d, %v; want %d, %v", n, err, tt.unkeyed, tt.err)
			}
			if cerr := tt.b.Check(); !errors.Is(cerr, tt.err) {
				t.Fatalf("Check() = %v, want %v", cerr, tt.err)
			}
			if ierr := iterate(tt.b); !errors.Is(ierr, tt.err) {
				t.Fatalf("the iterator says %v, the scan %v", ierr, err)
			}
		})
	}
}

func iterate(b Batch) error {
	it := b.Iter()
	var item Item
	for it.Next(&item) {
	}
	return it.Err()
}

// BenchmarkUnkeyed scans a batch of 1,000 short keyed items.
func BenchmarkUnkeyed(b *testing.B) {
	var batch Batch
	for range 1000 {
		batch.Append([]byte("word"), true, nil)
	}
	b.SetBytes(int64(len(batch.Body)))
	for b.Loop() {
		if _, err := batch.Unkeyed(); err != nil {
			b.Fatal(err)
		}
	}
}
