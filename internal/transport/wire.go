package transport

import (
	"errors"
	"fmt"
	"math"

	"github.com/bxwasm/bxwasm/internal/abi"
)

// ErrWire is returned when bytes received from another process are not a
// well-formed frame.
var ErrWire = errors.New("transport: malformed frame")

// wireVersion is the first byte of every frame; a process that speaks
// another version is refused rather than misread.
const wireVersion = 1

// maxIndex bounds every decoded index (worker, node, partition), so that a
// hostile frame cannot produce values that overflow an int anywhere.
const maxIndex = math.MaxInt32

// A message frame is one transport Message addressed to one worker, with
// the sequence number of the (from, to) pair it travels on:
//
//	version byte = 1
//	from    uvarint   global index of the sending worker
//	to      uvarint   global index of the receiving worker
//	seq     uvarint   0, 1, 2 … per (from, to)
//	node    uvarint   plan node
//	kind    byte      Data = 1, Frontier = 2
//	epoch   uvarint
//	part    varint    partition (zig-zag, may be -1)
//	count   uvarint   batch: number of items
//	bodylen uvarint   batch: body length
//	body    [bodylen]byte
//
// Integers are LEB128 varints as in internal/abi.
type frame struct {
	To  int
	Seq uint64
	Msg Message
}

// appendFrame encodes f at the end of b.
func appendFrame(b []byte, f *frame) []byte {
	w := abi.Writer{B: b}
	w.Byte(wireVersion)
	w.Uvarint(uint64(f.Msg.From))
	w.Uvarint(uint64(f.To))
	w.Uvarint(f.Seq)
	w.Uvarint(uint64(f.Msg.Node))
	w.Byte(byte(f.Msg.Kind))
	w.Uvarint(f.Msg.Epoch)
	w.Varint(int64(f.Msg.Part))
	f.Msg.Batch.WriteTo(&w)
	return w.B
}

// decodeFrame decodes a frame. The batch body aliases b. It never panics:
// any malformed input is an error wrapping ErrWire.
func decodeFrame(b []byte) (frame, error) {
	r := wireReader{Reader: abi.NewReader(b)}
	if v := r.Byte(); r.Err() == nil && v != wireVersion {
		return frame{}, fmt.Errorf("%w: version %d, want %d", ErrWire, v, wireVersion)
	}
	var f frame
	f.Msg.From = r.index("sender")
	f.To = r.index("receiver")
	f.Seq = r.Uvarint()
	f.Msg.Node = r.index("node")
	f.Msg.Kind = Kind(r.Byte())
	f.Msg.Epoch = r.Uvarint()
	f.Msg.Part = r.part()
	f.Msg.Batch = abi.ReadBatch(r.Reader)
	if err := r.end(); err != nil {
		return frame{}, err
	}
	if f.Msg.Kind != Data && f.Msg.Kind != Frontier {
		return frame{}, fmt.Errorf("%w: unknown kind %d", ErrWire, f.Msg.Kind)
	}
	return f, nil
}

// An ack frame returns credit: the total bytes the receiving worker has
// consumed from one sender since the start, so a later ack supersedes an
// earlier one and acks are idempotent:
//
//	version  byte = 1
//	receiver uvarint  global index of the worker that consumed
//	total    uvarint  bytes consumed from the sender, cumulative
type ack struct {
	Receiver int
	Total    uint64
}

// appendAck encodes a at the end of b.
func appendAck(b []byte, a ack) []byte {
	w := abi.Writer{B: b}
	w.Byte(wireVersion)
	w.Uvarint(uint64(a.Receiver))
	w.Uvarint(a.Total)
	return w.B
}

// decodeAck decodes an ack frame; malformed input is an error wrapping
// ErrWire.
func decodeAck(b []byte) (ack, error) {
	r := wireReader{Reader: abi.NewReader(b)}
	if v := r.Byte(); r.Err() == nil && v != wireVersion {
		return ack{}, fmt.Errorf("%w: ack version %d, want %d", ErrWire, v, wireVersion)
	}
	a := ack{Receiver: r.index("receiver"), Total: r.Uvarint()}
	if err := r.end(); err != nil {
		return ack{}, err
	}
	return a, nil
}

// wireReader adds range checks to abi.Reader.
type wireReader struct {
	*abi.Reader
	bad error // first value out of range
}

// index reads a uvarint that must not exceed maxIndex.
func (r *wireReader) index(what string) int {
	v := r.Uvarint()
	if v > maxIndex {
		r.outOfRange(what, int64(min(v, math.MaxInt64)))
		return 0
	}
	return int(v)
}

// part reads a partition index in [-1, maxIndex].
func (r *wireReader) part() int {
	v := r.Varint()
	if v < -1 || v > maxIndex {
		r.outOfRange("partition", v)
		return 0
	}
	return int(v)
}

func (r *wireReader) outOfRange(what string, v int64) {
	if r.bad == nil {
		r.bad = fmt.Errorf("%w: %s %d out of range", ErrWire, what, v)
	}
}

// end reports the first error: a short or long frame, or a bad value.
func (r *wireReader) end() error {
	if err := r.End(); err != nil {
		return fmt.Errorf("%w: %w", ErrWire, err)
	}
	return r.bad
}
