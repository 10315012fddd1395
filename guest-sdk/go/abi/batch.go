package abi

import (
	"encoding/binary"
	"errors"
)

// Batch is a sequence of items in their wire form. An item is a value the
// guest SDK encoded, optionally with a key (keyed streams carry one on every
// item; the host reads keys, never values).
//
// Inside a message a batch is written as
//
//	count uvarint | bodylen uvarint | body
//
// and the body is count items, each
//
//	keytag uvarint | key [keytag-1]byte | vlen uvarint | value [vlen]byte
//
// where keytag 0 means "no key" and keytag k+1 means a key of k bytes.
// Items can be copied from one batch body to another byte for byte, which
// is how the host routes them without decoding values.
type Batch struct {
	N    int    // number of items
	Body []byte // N encoded items
}

// ErrBatchCount is returned when a batch body does not hold N items.
var ErrBatchCount = errors.New("abi: batch count does not match its items")

// Item is one decoded item. Key and Value alias the batch body.
type Item struct {
	Key    []byte
	HasKey bool
	Value  []byte
	Raw    []byte // the whole encoded item, for copying
}

// Append adds an item to the batch.
func (b *Batch) Append(key []byte, hasKey bool, value []byte) {
	if hasKey {
		b.Body = binary.AppendUvarint(b.Body, uint64(len(key))+1)
		b.Body = append(b.Body, key...)
	} else {
		b.Body = append(b.Body, 0)
	}
	b.Body = binary.AppendUvarint(b.Body, uint64(len(value)))
	b.Body = append(b.Body, value...)
	b.N++
}

// AppendRaw adds an item already in wire form (Item.Raw).
func (b *Batch) AppendRaw(raw []byte) {
	b.Body = append(b.Body, raw...)
	b.N++
}

// Reset empties the batch and keeps its buffer.
func (b *Batch) Reset() { b.N, b.Body = 0, b.Body[:0] }

// WriteTo appends the batch to a message.
func (b *Batch) WriteTo(w *Writer) {
	w.Uvarint(uint64(b.N))
	w.Bytes(b.Body)
}

// ReadBatch reads a batch from a message and checks that its body holds
// exactly the items it claims. The body aliases the frame.
func ReadBatch(r *Reader) Batch {
	n := r.Count(2)
	body := r.Bytes()
	if r.Err() != nil {
		return Batch{}
	}
	b := Batch{N: n, Body: body}
	if err := b.Check(); err != nil {
		r.fail(err)
		return Batch{}
	}
	return b
}

// Check verifies that the body is exactly N well-formed items.
func (b Batch) Check() error {
	_, err := b.Unkeyed()
	return err
}

// Unkeyed checks the batch as Check does and counts its items without a
// key, in one pass that decodes nothing else.
func (b Batch) Unkeyed() (int, error) {
	if b.N < 0 {
		return 0, ErrBatchCount
	}
	body, off, unkeyed := b.Body, 0, 0
	for range b.N {
		tag, n := uvarintAt(body, off)
		if n <= 0 {
			return 0, ErrBatchCount
		}
		off += n
		if tag == 0 {
			unkeyed++
		} else if off, n = skip(body, off, tag-1); n < 0 {
			return 0, ErrBatchCount
		}
		vlen, n := uvarintAt(body, off)
		if n <= 0 {
			return 0, ErrBatchCount
		}
		if off, n = skip(body, off+n, vlen); n < 0 {
			return 0, ErrBatchCount
		}
	}
	if off != len(body) {
		return 0, ErrBatchCount
	}
	return unkeyed, nil
}

// uvarintAt decodes the uvarint at p[off:] as binary.Uvarint does, with a
// short way for the one-byte values most lengths and tags are.
func uvarintAt(p []byte, off int) (uint64, int) {
	if off < len(p) && p[off] < 0x80 {
		return uint64(p[off]), 1
	}
	if off >= len(p) {
		return 0, 0
	}
	return binary.Uvarint(p[off:])
}

// skip moves off over n bytes of p; it returns -1 as its second result
// when fewer are left.
func skip(p []byte, off int, n uint64) (int, int) {
	if n > uint64(len(p)-off) {
		return off, -1
	}
	return off + int(n), 0
}

// Iter returns an iterator over the batch's items.
func (b Batch) Iter() BatchIter { return BatchIter{body: b.Body, left: b.N} }

// BatchIter walks the items of a batch.
type BatchIter struct {
	body []byte
	off  int
	left int
	err  error
}

// Next decodes the next item into it and reports whether there was one.
func (it *BatchIter) Next(item *Item) bool {
	if it.err != nil {
		return false
	}
	if it.left == 0 {
		if it.off != len(it.body) {
			it.err = ErrBatchCount
		}
		return false
	}
	start := it.off
	tag, ok := it.uvarint()
	if !ok {
		return false
	}
	item.HasKey = tag > 0
	item.Key = nil
	if tag > 0 {
		if item.Key, ok = it.take(tag - 1); !ok {
			return false
		}
	}
	vlen, ok := it.uvarint()
	if !ok {
		return false
	}
	if item.Value, ok = it.take(vlen); !ok {
		return false
	}
	item.Raw = it.body[start:it.off:it.off]
	it.left--
	return true
}

// Err reports a malformed batch after Next returned false.
func (it *BatchIter) Err() error { return it.err }

func (it *BatchIter) uvarint() (uint64, bool) {
	v, n := uvarintAt(it.body, it.off)
	if n <= 0 {
		it.err = ErrBatchCount
		return 0, false
	}
	it.off += n
	return v, true
}

func (it *BatchIter) take(n uint64) ([]byte, bool) {
	if n > uint64(len(it.body)-it.off) {
		it.err = ErrBatchCount
		return nil, false
	}
	p := it.body[it.off : it.off+int(n) : it.off+int(n)]
	it.off += int(n)
	return p, true
}
