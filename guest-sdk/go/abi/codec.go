package abi

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// ErrShort is returned by Reader methods when a frame ends early.
var ErrShort = errors.New("abi: frame ends early")

// ErrTooLong is returned when a length prefix points past the frame.
var ErrTooLong = errors.New("abi: length past end of frame")

// Writer appends encoded values to a byte slice. The zero value is ready to
// use; Reset keeps the capacity for the next frame.
type Writer struct {
	B []byte
}

// Reset empties the writer and keeps its buffer.
func (w *Writer) Reset() { w.B = w.B[:0] }

// Byte appends one byte.
func (w *Writer) Byte(b byte) { w.B = append(w.B, b) }

// Bool appends 1 or 0.
func (w *Writer) Bool(v bool) {
	if v {
		w.B = append(w.B, 1)
		return
	}
	w.B = append(w.B, 0)
}

// Uvarint appends an unsigned LEB128 varint.
func (w *Writer) Uvarint(v uint64) { w.B = binary.AppendUvarint(w.B, v) }

// Varint appends a zig-zag signed varint.
func (w *Writer) Varint(v int64) { w.B = binary.AppendVarint(w.B, v) }

// Float appends the IEEE 754 bits of v, little-endian.
func (w *Writer) Float(v float64) { w.B = binary.LittleEndian.AppendUint64(w.B, math.Float64bits(v)) }

// Bytes appends a length-prefixed byte string.
func (w *Writer) Bytes(p []byte) {
	w.Uvarint(uint64(len(p)))
	w.B = append(w.B, p...)
}

// String appends a length-prefixed string.
func (w *Writer) String(s string) {
	w.Uvarint(uint64(len(s)))
	w.B = append(w.B, s...)
}

// Raw appends p without a length.
func (w *Writer) Raw(p []byte) { w.B = append(w.B, p...) }

// Reader decodes values from a frame. Every method checks bounds; after the
// first error all further reads return zero values and Err reports it, so a
// decoder can read a whole structure and check once.
type Reader struct {
	b   []byte
	off int
	err error
}

// NewReader reads from b without copying it.
func NewReader(b []byte) *Reader { return &Reader{b: b} }

// Err is the first error met, or nil.
func (r *Reader) Err() error { return r.err }

// Len is the number of unread bytes.
func (r *Reader) Len() int { return len(r.b) - r.off }

// Offset is the number of bytes read so far.
func (r *Reader) Offset() int { return r.off }

func (r *Reader) fail(err error) {
	if r.err == nil {
		r.err = fmt.Errorf("%w at byte %d", err, r.off)
	}
}

// Byte reads one byte.
func (r *Reader) Byte() byte {
	if r.err != nil {
		return 0
	}
	if r.off >= len(r.b) {
		r.fail(ErrShort)
		return 0
	}
	b := r.b[r.off]
	r.off++
	return b
}

// Bool reads a byte and reports whether it is non-zero.
func (r *Reader) Bool() bool { return r.Byte() != 0 }

// Uvarint reads an unsigned varint.
func (r *Reader) Uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b[r.off:])
	if n <= 0 {
		r.fail(ErrShort)
		return 0
	}
	r.off += n
	return v
}

// Varint reads a zig-zag signed varint.
func (r *Reader) Varint() int64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Varint(r.b[r.off:])
	if n <= 0 {
		r.fail(ErrShort)
		return 0
	}
	r.off += n
	return v
}

// Count reads a varint used as the number of elements that follow, each at
// least min bytes long, and refuses counts the rest of the frame cannot hold.
// This keeps a hostile count from making the reader allocate.
func (r *Reader) Count(min int) int {
	v := r.Uvarint()
	if min < 1 {
		min = 1
	}
	if v > uint64(r.Len()/min) {
		r.fail(ErrTooLong)
		return 0
	}
	return int(v)
}

// Float reads 8 little-endian bytes as a float64.
func (r *Reader) Float() float64 {
	p := r.Raw(8)
	if p == nil {
		return 0
	}
	return math.Float64frombits(binary.LittleEndian.Uint64(p))
}

// Raw reads n bytes without a length prefix. The result aliases the frame.
func (r *Reader) Raw(n int) []byte {
	if r.err != nil {
		return nil
	}
	if n < 0 || n > r.Len() {
		r.fail(ErrTooLong)
		return nil
	}
	p := r.b[r.off : r.off+n : r.off+n]
	r.off += n
	return p
}

// Bytes reads a length-prefixed byte string. The result aliases the frame.
func (r *Reader) Bytes() []byte {
	n := r.Uvarint()
	if n > uint64(r.Len()) {
		r.fail(ErrTooLong)
		return nil
	}
	return r.Raw(int(n))
}

// String reads a length-prefixed string (copied).
func (r *Reader) String() string { return string(r.Bytes()) }

// End fails the reader if bytes are left over, and returns Err.
func (r *Reader) End() error {
	if r.err == nil && r.off != len(r.b) {
		r.fail(fmt.Errorf("abi: %d trailing bytes", len(r.b)-r.off))
	}
	return r.err
}

var errArgType = errors.New("abi: unknown argument type")
