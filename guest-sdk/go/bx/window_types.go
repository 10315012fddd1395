package bx

import (
	"encoding/binary"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"time"
)

// WindowMetadata describes a window when it closes (Bytewax 0.21's
// WindowMetadata). For tumbling and sliding windows CloseTime is
// exclusive; for sessions it is the time of the last item.
type WindowMetadata struct {
	OpenTime  time.Time `json:"open_time"`
	CloseTime time.Time `json:"close_time"`
	// MergedIDs are the sessions merged into this one before it closed.
	MergedIDs []int64 `json:"merged_ids,omitempty"`
}

// AppendBinary appends the metadata to dst: the open and close times as
// Unix nanoseconds (zig-zag varints, clamped to the years 1678..2262),
// the number of merged ids (uvarint) and each id (zig-zag varint). Meta
// streams cross between steps in this form, not as JSON: a window
// operator emits one per window.
func (m WindowMetadata) AppendBinary(dst []byte) ([]byte, error) {
	dst = binary.AppendVarint(dst, toNanos(m.OpenTime))
	dst = binary.AppendVarint(dst, toNanos(m.CloseTime))
	dst = binary.AppendUvarint(dst, uint64(len(m.MergedIDs)))
	for _, id := range m.MergedIDs {
		dst = binary.AppendVarint(dst, id)
	}
	return dst, nil
}

// MarshalBinary encodes the metadata.
func (m WindowMetadata) MarshalBinary() ([]byte, error) { return m.AppendBinary(nil) }

// UnmarshalBinary decodes metadata AppendBinary encoded; the times come
// back in UTC.
func (m *WindowMetadata) UnmarshalBinary(b []byte) error {
	var v [2]int64
	for i := range v {
		x, n := binary.Varint(b)
		if n <= 0 {
			return fmt.Errorf("%w: truncated window metadata", errWindowed)
		}
		v[i], b = x, b[n:]
	}
	count, n := binary.Uvarint(b)
	if n <= 0 || count > uint64(len(b)-n) {
		return fmt.Errorf("%w: bad merged id count in window metadata", errWindowed)
	}
	b = b[n:]
	var merged []int64
	for range count {
		id, n := binary.Varint(b)
		if n <= 0 {
			return fmt.Errorf("%w: truncated merged id in window metadata", errWindowed)
		}
		merged, b = append(merged, id), b[n:]
	}
	if len(b) != 0 {
		return fmt.Errorf("%w: %d bytes after window metadata", errWindowed, len(b))
	}
	m.OpenTime, m.CloseTime, m.MergedIDs = fromNanos(v[0]), fromNanos(v[1]), merged
	return nil
}

// metadataOf converts a window's bounds to its metadata.
func metadataOf(m windowMeta) WindowMetadata {
	return WindowMetadata{OpenTime: fromNanos(m.Open), CloseTime: fromNanos(m.Close), MergedIDs: m.Merged}
}

// Windowed is a value of one window of a key: Bytewax's (window_id,
// value) tuple. It encodes as the id (zig-zag varint) followed by the
// value in its own codec.
type Windowed[T any] struct {
	ID    int64
	Value T
}

// AppendBinary appends the encoded pair to dst.
func (w Windowed[T]) AppendBinary(dst []byte) ([]byte, error) {
	return codecFor[T]().enc(binary.AppendVarint(dst, w.ID), w.Value)
}

// MarshalBinary encodes the pair.
func (w Windowed[T]) MarshalBinary() ([]byte, error) { return w.AppendBinary(nil) }

// errWindowed is returned for a windowed value that does not decode.
var errWindowed = errors.New("bad windowed value")

// UnmarshalBinary decodes a pair AppendBinary encoded.
func (w *Windowed[T]) UnmarshalBinary(b []byte) error {
	id, n := binary.Varint(b)
	if n <= 0 {
		return fmt.Errorf("%w: truncated window id", errWindowed)
	}
	v, err := codecFor[T]().dec(b[n:])
	if err != nil {
		return err
	}
	w.ID, w.Value = id, v
	return nil
}

// codecs caches valueCodecOf per type for the per-item paths of window
// values.
var codecs sync.Map // reflect.Type -> valueCodec[T]

// codecFor is valueCodecOf, cached.
func codecFor[T any]() valueCodec[T] {
	t := reflect.TypeFor[T]()
	if c, ok := codecs.Load(t); ok {
		return c.(valueCodec[T])
	}
	c := valueCodecOf[T]()
	codecs.Store(t, c)
	return c
}

// The kinds of windowEvent, Bytewax's "E", "L" and "M".
const (
	eventEmit byte = 'E'
	eventLate byte = 'L'
	eventMeta byte = 'M'
)

// windowEvent is one output of a window step before it is split into the
// down, late and meta streams. It encodes as the kind byte, the window id
// (zig-zag varint) and the payload in its own codec.
type windowEvent[V, W any] struct {
	kind byte
	id   int64
	emit W
	late V
	meta WindowMetadata
}

// AppendBinary appends the encoded event to dst.
func (e windowEvent[V, W]) AppendBinary(dst []byte) ([]byte, error) {
	dst = binary.AppendVarint(append(dst, e.kind), e.id)
	switch e.kind {
	case eventEmit:
		return codecFor[W]().enc(dst, e.emit)
	case eventLate:
		return codecFor[V]().enc(dst, e.late)
	}
	return codecFor[WindowMetadata]().enc(dst, e.meta)
}

// MarshalBinary encodes the event.
func (e windowEvent[V, W]) MarshalBinary() ([]byte, error) { return e.AppendBinary(nil) }

// UnmarshalBinary decodes an event AppendBinary encoded.
func (e *windowEvent[V, W]) UnmarshalBinary(b []byte) error {
	if len(b) < 2 {
		return fmt.Errorf("%w: %d bytes", errWindowed, len(b))
	}
	id, n := binary.Varint(b[1:])
	if n <= 0 {
		return fmt.Errorf("%w: truncated window id", errWindowed)
	}
	e.kind, e.id = b[0], id
	p := b[1+n:]
	var err error
	switch e.kind {
	case eventEmit:
		e.emit, err = codecFor[W]().dec(p)
	case eventLate:
		e.late, err = codecFor[V]().dec(p)
	case eventMeta:
		e.meta, err = codecFor[WindowMetadata]().dec(p)
	default:
		err = fmt.Errorf("%w: unknown event kind %q", errWindowed, e.kind)
	}
	return err
}
