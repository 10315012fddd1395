package transport

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"github.com/bxwasm/bxwasm/guest-sdk/go/abi"
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
// Integers are LEB128 varints as in guest-sdk/go/abi.
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

// chunkVersion is the first byte of a chunk.
const chunkVersion = 2

// maxFrame bounds a reassembled frame: a batch of items of up to
// MaxItemSize each is sent once it holds more than a few hundred KiB, so
// no honest frame comes near it.
const maxFrame = MaxItemSize + 16<<20

// A frame longer than the NATS connection's largest payload travels as
// chunks: consecutive messages on the receiver's data subject, each
//
//	version byte = 2
//	from    uvarint   global index of the sending worker
//	size    uvarint   the whole frame's length
//	offset  uvarint   where the chunk's bytes start in the frame
//	bytes   [rest]byte
//
// A sender's chunks arrive in order and are not interleaved with its other
// frames to the same receiver (one goroutine sends them all), but may be
// interleaved with other senders' messages.
type chunk struct {
	From         int
	Size, Offset int
	Data         []byte
}

// maxChunkHeader bounds the bytes of a chunk before its data.
const maxChunkHeader = 1 + 3*binary.MaxVarintLen64

// appendChunk encodes c at the end of b.
func appendChunk(b []byte, c chunk) []byte {
	w := abi.Writer{B: b}
	w.Byte(chunkVersion)
	w.Uvarint(uint64(c.From))
	w.Uvarint(uint64(c.Size))
	w.Uvarint(uint64(c.Offset))
	w.Raw(c.Data)
	return w.B
}

// decodeChunk decodes a chunk, whose data aliases b; a malformed one, or
// one that does not fit in its frame, is an error wrapping ErrWire.
func decodeChunk(b []byte) (chunk, error) {
	r := wireReader{Reader: abi.NewReader(b)}
	if v := r.Byte(); r.Err() == nil && v != chunkVersion {
		return chunk{}, fmt.Errorf("%w: chunk version %d, want %d", ErrWire, v, chunkVersion)
	}
	c := chunk{From: r.index("sender"), Size: r.index("frame size"), Offset: r.index("chunk offset")}
	c.Data = r.Raw(r.Len())
	if err := r.end(); err != nil {
		return chunk{}, err
	}
	if c.Size > maxFrame || c.Offset+len(c.Data) > c.Size || len(c.Data) == 0 {
		return chunk{}, fmt.Errorf("%w: chunk of %d bytes at %d of a %d-byte frame", ErrWire, len(c.Data), c.Offset, c.Size)
	}
	return c, nil
}

// chunks calls publish with each chunk of frame, holding at most n of its
// bytes, built in buf; it returns buf for reuse.
func chunks(buf, frame []byte, from, n int, publish func([]byte) error) ([]byte, error) {
	for off := 0; off < len(frame); off += n {
		data := frame[off:min(off+n, len(frame))]
		buf = appendChunk(buf[:0], chunk{From: from, Size: len(frame), Offset: off, Data: data})
		if err := publish(buf); err != nil {
			return buf, err
		}
	}
	return buf, nil
}
