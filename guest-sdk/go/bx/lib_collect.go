package bx

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"
)

// ErrOperatorParam is raised at build when a library operator gets a
// parameter it cannot work with, such as a Collect max size below 1.
var ErrOperatorParam = errors.New("bad operator parameter")

// Collect gathers the values of each key into slices. A key's slice is
// emitted as soon as it holds maxSize values, when timeout has passed
// since its first value arrived, or when the inputs end, whichever comes
// first; the key is then forgotten until its next value. The timeout is
// measured on the guest's wall clock (time.Now) and fired by the host
// through NotifyAt, so it also fires while no values arrive. Its core step
// is "<id>.stateful.stateful_batch".
//
// Bytewax 0.21's collect re-arms its timeout with every value instead;
// here a value never waits longer than timeout, however steady the
// stream.
func Collect[V any](id string, up *Stream[KV[V]], timeout time.Duration, maxSize int) *Stream[KV[[]V]] {
	return collect(id, up, timeout, maxSize, time.Now)
}

// collect is Collect with its clock passed in.
func collect[V any](id string, up *Stream[KV[V]], timeout time.Duration, maxSize int, now func() time.Time) *Stream[KV[[]V]] {
	if maxSize < 1 {
		raise("%w: Collect %q needs a max size of at least 1, got %d", ErrOperatorParam, id, maxSize)
	}
	return batchLogicIn(up, func(resume *collectState[V]) StatefulBatchLogic[V, []V, collectState[V]] {
		l := &collectLogic[V]{now: now, timeout: timeout, maxSize: maxSize}
		if resume != nil {
			l.state = *resume
		}
		return l
	}, id, "stateful")
}

// collectLogic is the logic of Collect for one key.
type collectLogic[V any] struct {
	now     func() time.Time
	timeout time.Duration
	maxSize int
	state   collectState[V]
}

// OnBatch appends the values, emitting every slice that reaches the max
// size; the key is discarded when nothing is left waiting.
func (l *collectLogic[V]) OnBatch(values []V) ([][]V, bool) {
	var out [][]V
	for _, v := range values {
		if len(l.state.acc) == 0 {
			l.state.timeoutAt = l.now().Add(l.timeout)
		}
		l.state.acc = append(l.state.acc, v)
		if len(l.state.acc) >= l.maxSize {
			out = append(out, l.state.acc)
			l.state.acc = nil
		}
	}
	return out, len(l.state.acc) == 0
}

// OnNotify emits what waits, its timeout having passed.
func (l *collectLogic[V]) OnNotify() ([][]V, bool) { return l.flush() }

// OnEOF emits what waits.
func (l *collectLogic[V]) OnEOF() ([][]V, bool) { return l.flush() }

func (l *collectLogic[V]) flush() ([][]V, bool) {
	if len(l.state.acc) == 0 {
		return nil, true
	}
	return [][]V{l.state.acc}, true
}

// NotifyAt is the timeout of the waiting slice.
func (l *collectLogic[V]) NotifyAt() (time.Time, bool) {
	return l.state.timeoutAt, len(l.state.acc) > 0
}

// Snapshot returns the waiting values and their timeout.
func (l *collectLogic[V]) Snapshot() collectState[V] { return l.state }

// collectState is what Collect keeps of a key. It encodes itself so that
// values go through V's own codec:
//
//	timelen uvarint | timeout (time.Time binary) |
//	count uvarint | count × (len uvarint | value)
type collectState[V any] struct {
	acc       []V
	timeoutAt time.Time
}

// AppendBinary appends the encoded state to dst.
func (s collectState[V]) AppendBinary(dst []byte) ([]byte, error) {
	t, err := s.timeoutAt.AppendBinary(nil)
	if err != nil {
		return dst, err
	}
	dst = appendBytes(dst, t)
	dst = binary.AppendUvarint(dst, uint64(len(s.acc)))
	c := valueCodecOf[V]()
	var buf []byte
	for _, v := range s.acc {
		if buf, err = c.enc(buf[:0], v); err != nil {
			return dst, err
		}
		dst = appendBytes(dst, buf)
	}
	return dst, nil
}

func appendBytes(dst, p []byte) []byte {
	return append(binary.AppendUvarint(dst, uint64(len(p))), p...)
}

// MarshalBinary encodes the state.
func (s collectState[V]) MarshalBinary() ([]byte, error) { return s.AppendBinary(nil) }

// errCollectState is returned for a Collect snapshot that does not decode.
var errCollectState = errors.New("bad collect state")

// UnmarshalBinary decodes a state that AppendBinary encoded.
func (s *collectState[V]) UnmarshalBinary(b []byte) error {
	r := stateReader{b: b}
	if err := s.timeoutAt.UnmarshalBinary(r.bytes()); r.err == nil && err != nil {
		return fmt.Errorf("%w: %w", errCollectState, err)
	}
	n := r.uvarint()
	if r.err == nil && n > uint64(len(r.b)) {
		return fmt.Errorf("%w: %d values in %d bytes", errCollectState, n, len(r.b))
	}
	c := valueCodecOf[V]()
	s.acc = make([]V, 0, n)
	for i := uint64(0); i < n && r.err == nil; i++ {
		p := r.bytes()
		if r.err != nil {
			break
		}
		v, err := c.dec(p)
		if err != nil {
			return err
		}
		s.acc = append(s.acc, v)
	}
	if r.err == nil && len(r.b) > 0 {
		r.err = fmt.Errorf("%w: %d trailing bytes", errCollectState, len(r.b))
	}
	return r.err
}

// stateReader reads uvarints and length-prefixed bytes, remembering the
// first error.
type stateReader struct {
	b   []byte
	err error
}

func (r *stateReader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.err = fmt.Errorf("%w: truncated varint", errCollectState)
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *stateReader) bytes() []byte {
	n := r.uvarint()
	if r.err != nil {
		return nil
	}
	if n > uint64(len(r.b)) {
		r.err = fmt.Errorf("%w: %d bytes past the end", errCollectState, n)
		return nil
	}
	p := r.b[:n:n]
	r.b = r.b[n:]
	return p
}
