package bx

import (
	"bytes"
	"encoding"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"slices"
	"unsafe"

	"github.com/bxwasm/bxwasm/guest-sdk/go/abi"
)

// ErrDecode is returned when bytes from the host do not decode as a value
// of the stream's type.
var ErrDecode = errors.New("bx: cannot decode value")

// valueCodec turns values of one type into bytes and back. It is chosen
// once per type (valueCodecOf) so the per-item path has no type switch.
type valueCodec[T any] struct {
	enc func(dst []byte, v T) ([]byte, error)
	dec func(src []byte) (T, error)
	// view decodes like dec from bytes that are never changed again, and
	// may alias them (nil: it would copy anyway, use dec).
	view func(src []byte) (T, error)
}

// viewer returns the codec's view, or dec if it has none.
func (c valueCodec[T]) viewer() func(src []byte) (T, error) {
	if c.view != nil {
		return c.view
	}
	return c.dec
}

var (
	marshalerType   = reflect.TypeFor[encoding.BinaryMarshaler]()
	appenderType    = reflect.TypeFor[encoding.BinaryAppender]()
	unmarshalerType = reflect.TypeFor[encoding.BinaryUnmarshaler]()
)

// valueCodecOf picks the codec for T: raw bytes for string and []byte,
// compact binary for numbers and bool, the type's own BinaryMarshaler and
// BinaryUnmarshaler when it has both, and encoding/json otherwise.
func valueCodecOf[T any]() valueCodec[T] {
	if c, ok := builtinCodec(reflect.TypeFor[T]()).(valueCodec[T]); ok {
		return c
	}
	t := reflect.TypeFor[T]()
	if t.Kind() != reflect.Interface && t.Implements(marshalerType) && reflect.PointerTo(t).Implements(unmarshalerType) {
		return binaryCodec[T](t.Implements(appenderType))
	}
	return jsonCodec[T]()
}

// builtinCodec returns a valueCodec[X] for the exact types with a compact
// encoding, or nil.
func builtinCodec(t reflect.Type) any {
	switch t {
	case reflect.TypeFor[string]():
		return valueCodec[string]{enc: encString, dec: decString, view: viewString}
	case reflect.TypeFor[[]byte]():
		return valueCodec[[]byte]{enc: encBytes, dec: decBytes, view: viewBytes}
	case reflect.TypeFor[bool]():
		return valueCodec[bool]{enc: encBool, dec: decBool}
	case reflect.TypeFor[float64]():
		return valueCodec[float64]{enc: encFloat64, dec: decFloat64}
	case reflect.TypeFor[float32]():
		return valueCodec[float32]{enc: encFloat32, dec: decFloat32}
	}
	return intCodec(t)
}

func intCodec(t reflect.Type) any {
	switch t {
	case reflect.TypeFor[int]():
		return signedCodec[int]()
	case reflect.TypeFor[int64]():
		return signedCodec[int64]()
	case reflect.TypeFor[int32]():
		return signedCodec[int32]()
	case reflect.TypeFor[int16]():
		return signedCodec[int16]()
	case reflect.TypeFor[int8]():
		return signedCodec[int8]()
	case reflect.TypeFor[uint]():
		return unsignedCodec[uint]()
	case reflect.TypeFor[uint64]():
		return unsignedCodec[uint64]()
	case reflect.TypeFor[uint32]():
		return unsignedCodec[uint32]()
	case reflect.TypeFor[uint16]():
		return unsignedCodec[uint16]()
	case reflect.TypeFor[uint8]():
		return unsignedCodec[uint8]()
	}
	return nil
}

func encString(dst []byte, v string) ([]byte, error) { return append(dst, v...), nil }
func decString(src []byte) (string, error)           { return string(src), nil }

// viewString makes a string of src without copying; src must never
// change again.
func viewString(src []byte) (string, error) {
	return unsafe.String(unsafe.SliceData(src), len(src)), nil
}

func encBytes(dst []byte, v []byte) ([]byte, error) { return append(dst, v...), nil }

// decBytes copies: the source aliases a buffer the next call reuses.
func decBytes(src []byte) ([]byte, error) { return append([]byte{}, src...), nil }

// viewBytes returns src capped at its length, so an append copies instead
// of writing over the next item.
func viewBytes(src []byte) ([]byte, error) { return src[:len(src):len(src)], nil }

func encBool(dst []byte, v bool) ([]byte, error) {
	if v {
		return append(dst, 1), nil
	}
	return append(dst, 0), nil
}

func decBool(src []byte) (bool, error) {
	if len(src) != 1 || src[0] > 1 {
		return false, fmt.Errorf("%w: bool needs one byte 0 or 1, got %d bytes", ErrDecode, len(src))
	}
	return src[0] == 1, nil
}

func encFloat64(dst []byte, v float64) ([]byte, error) {
	return binary.LittleEndian.AppendUint64(dst, math.Float64bits(v)), nil
}

func decFloat64(src []byte) (float64, error) {
	if len(src) != 8 {
		return 0, fmt.Errorf("%w: float64 needs 8 bytes, got %d", ErrDecode, len(src))
	}
	return math.Float64frombits(binary.LittleEndian.Uint64(src)), nil
}

func encFloat32(dst []byte, v float32) ([]byte, error) {
	return binary.LittleEndian.AppendUint32(dst, math.Float32bits(v)), nil
}

func decFloat32(src []byte) (float32, error) {
	if len(src) != 4 {
		return 0, fmt.Errorf("%w: float32 needs 4 bytes, got %d", ErrDecode, len(src))
	}
	return math.Float32frombits(binary.LittleEndian.Uint32(src)), nil
}

type signed interface {
	~int | ~int64 | ~int32 | ~int16 | ~int8
}

type unsigned interface {
	~uint | ~uint64 | ~uint32 | ~uint16 | ~uint8
}

// signedCodec writes a zig-zag varint (binary.AppendVarint) that must use
// all its bytes and fit the type.
func signedCodec[T signed]() valueCodec[T] {
	return valueCodec[T]{
		enc: func(dst []byte, v T) ([]byte, error) { return binary.AppendVarint(dst, int64(v)), nil },
		dec: func(src []byte) (T, error) {
			v, n := binary.Varint(src)
			if n <= 0 || n != len(src) || int64(T(v)) != v {
				return 0, fmt.Errorf("%w: bad %T varint (%d bytes)", ErrDecode, T(0), len(src))
			}
			return T(v), nil
		},
	}
}

// unsignedCodec writes an unsigned varint (binary.AppendUvarint).
func unsignedCodec[T unsigned]() valueCodec[T] {
	return valueCodec[T]{
		enc: func(dst []byte, v T) ([]byte, error) { return binary.AppendUvarint(dst, uint64(v)), nil },
		dec: func(src []byte) (T, error) {
			v, n := binary.Uvarint(src)
			if n <= 0 || n != len(src) || uint64(T(v)) != v {
				return 0, fmt.Errorf("%w: bad %T uvarint (%d bytes)", ErrDecode, T(0), len(src))
			}
			return T(v), nil
		},
	}
}

func binaryCodec[T any](appends bool) valueCodec[T] {
	enc := func(dst []byte, v T) ([]byte, error) {
		b, err := any(v).(encoding.BinaryMarshaler).MarshalBinary()
		return append(dst, b...), err
	}
	if appends {
		enc = func(dst []byte, v T) ([]byte, error) {
			return any(v).(encoding.BinaryAppender).AppendBinary(dst)
		}
	}
	return valueCodec[T]{enc: enc, dec: func(src []byte) (T, error) {
		var v T
		if err := any(&v).(encoding.BinaryUnmarshaler).UnmarshalBinary(src); err != nil {
			return v, fmt.Errorf("%w: %T: %w", ErrDecode, v, err)
		}
		return v, nil
	}}
}

func jsonCodec[T any]() valueCodec[T] {
	return valueCodec[T]{
		enc: func(dst []byte, v T) ([]byte, error) {
			b, err := json.Marshal(v)
			return append(dst, b...), err
		},
		dec: func(src []byte) (T, error) {
			var v T
			if err := json.Unmarshal(src, &v); err != nil {
				return v, fmt.Errorf("%w: %s: %w", ErrDecode, reflect.TypeFor[T](), err)
			}
			return v, nil
		},
	}
}

// itemCodec turns values of a stream into batch items and back. Plain
// values have no key; KV[V] puts Key in the item key and Value through V's
// codec. One itemCodec is built per stream (newItemCodec).
type itemCodec[T any] struct {
	keyed bool
	key   func(v *T) string
	enc   func(dst []byte, v *T) ([]byte, error)
	dec   func(key, val []byte) (T, error)
	// view decodes like dec from bytes never changed again, aliasing them;
	// views says it saves copies, so that a batch is worth copying whole
	// (once) and viewing item by item.
	view    func(key, val []byte) (T, error)
	views   bool
	scratch []byte
	buf     []T // decoded values, reused when they are only borrowed
}

// kvCoder is implemented by every KV[V]: it builds the item codec of
// KV[V], so generic code can detect keyed streams without knowing V.
type kvCoder interface{ kvCodec() any }

func newItemCodec[T any]() *itemCodec[T] {
	var zero T
	if kv, ok := any(zero).(kvCoder); ok {
		if c, ok := kv.kvCodec().(*itemCodec[T]); ok {
			return c
		}
	}
	vc := valueCodecOf[T]()
	view := vc.viewer()
	return &itemCodec[T]{
		enc:   func(dst []byte, v *T) ([]byte, error) { return vc.enc(dst, *v) },
		dec:   func(_, val []byte) (T, error) { return vc.dec(val) },
		view:  func(_, val []byte) (T, error) { return view(val) },
		views: vc.view != nil,
	}
}

// appendItem encodes v as one item of b.
func (c *itemCodec[T]) appendItem(b *abi.Batch, v *T) error {
	var err error
	c.scratch, err = c.enc(c.scratch[:0], v)
	if err != nil {
		return err
	}
	if c.keyed {
		appendKeyed(b, c.key(v), c.scratch)
		return nil
	}
	b.Append(nil, false, c.scratch)
	return nil
}

// appendKeyed adds an item with a string key without converting the key
// to a []byte first.
func appendKeyed(b *abi.Batch, key string, val []byte) {
	b.Body = binary.AppendUvarint(b.Body, uint64(len(key))+1)
	b.Body = append(b.Body, key...)
	b.Body = binary.AppendUvarint(b.Body, uint64(len(val)))
	b.Body = append(b.Body, val...)
	b.N++
}

// decodeItem decodes one item; a keyed stream needs the item's key. It
// takes the item's parts by value so that the caller's abi.Item stays on
// the stack (a pointer into c.dec would move it to the heap, and every
// BatchIter.Next would then pay for write barriers).
func (c *itemCodec[T]) decodeItem(key []byte, hasKey bool, val []byte) (T, error) {
	if c.keyed && !hasKey {
		var zero T
		return zero, fmt.Errorf("%w: item of a keyed stream has no key", ErrDecode)
	}
	return c.dec(key, val)
}

// viewItem is decodeItem with the codec's view.
func (c *itemCodec[T]) viewItem(key []byte, hasKey bool, val []byte) (T, error) {
	if c.keyed && !hasKey {
		var zero T
		return zero, fmt.Errorf("%w: item of a keyed stream has no key", ErrDecode)
	}
	return c.view(key, val)
}

// decode reads a whole batch into a []T, boxed for the chain runner. When
// the values are only borrowed (reuse) it decodes into the same slice
// every call.
func (c *itemCodec[T]) decode(b abi.Batch, reuse bool) (any, error) {
	if !reuse {
		return c.decodeSlice(b)
	}
	var err error
	c.buf, err = c.decodeInto(b, slices.Grow(c.buf[:0], b.N))
	return c.buf, err
}

func (c *itemCodec[T]) decodeSlice(b abi.Batch) ([]T, error) {
	return c.decodeInto(b, make([]T, 0, b.N))
}

// decodeInto appends the batch's values to out. A codec with views copies
// the body once into memory of its own, which nothing writes again, and
// views every item in it: one allocation a batch instead of one an item.
func (c *itemCodec[T]) decodeInto(b abi.Batch, out []T) ([]T, error) {
	dec := c.decodeItem
	if c.views {
		b.Body = bytes.Clone(b.Body)
		dec = c.viewItem
	}
	it := b.Iter()
	var item abi.Item
	for it.Next(&item) {
		v, err := dec(item.Key, item.HasKey, item.Value)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, it.Err()
}

// encode appends every value of vs (a []T) to b.
func (c *itemCodec[T]) encode(vs any, b *abi.Batch) error {
	s, _ := vs.([]T)
	return c.encodeSlice(s, b)
}

func (c *itemCodec[T]) encodeSlice(s []T, b *abi.Batch) error {
	for i := range s {
		if err := c.appendItem(b, &s[i]); err != nil {
			return err
		}
	}
	return nil
}

// batchCodec is itemCodec with its type erased, as the dispatcher holds it.
type batchCodec interface {
	decode(b abi.Batch, reuse bool) (any, error)
	encode(vs any, b *abi.Batch) error
}
