package bx

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"reflect"
	"testing"

	"github.com/bxwasm/bxwasm/guest-sdk/go/abi"
)

// point has its own binary form.
type point struct{ X, Y int8 }

func (p point) MarshalBinary() ([]byte, error) { return []byte{byte(p.X), byte(p.Y)}, nil }

func (p *point) UnmarshalBinary(b []byte) error {
	if len(b) != 2 {
		return errors.New("point needs 2 bytes")
	}
	p.X, p.Y = int8(b[0]), int8(b[1])
	return nil
}

// appendPoint also implements encoding.BinaryAppender.
type appendPoint struct{ point }

func (p appendPoint) AppendBinary(b []byte) ([]byte, error) { return append(b, 'A', byte(p.X)), nil }

func (p *appendPoint) UnmarshalBinary(b []byte) error {
	if len(b) != 2 || b[0] != 'A' {
		return errors.New("bad appendPoint")
	}
	p.X = int8(b[1])
	return nil
}

type record struct {
	Name string `json:"name"`
	N    int    `json:"n"`
}

// roundTrip encodes v with T's codec, checks the bytes when want is not
// nil, and decodes them back.
func codecCase[T any](v T, want []byte) func(t *testing.T) {
	return func(t *testing.T) {
		c := valueCodecOf[T]()
		b, err := c.enc(nil, v)
		if err != nil {
			t.Fatal(err)
		}
		if want != nil && !bytes.Equal(b, want) {
			t.Errorf("encoded %v as %x, want %x", v, b, want)
		}
		back, err := c.dec(b)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(back, v) {
			t.Errorf("decoded %#v, want %#v", back, v)
		}
	}
}

func TestValueCodecs(t *testing.T) {
	f64 := binary.LittleEndian.AppendUint64(nil, math.Float64bits(1.5))
	f32 := binary.LittleEndian.AppendUint32(nil, math.Float32bits(-2.25))
	tests := []struct {
		name string
		run  func(t *testing.T)
	}{
		{"string raw", codecCase("héllo", []byte("héllo"))},
		{"empty string", codecCase("", []byte{})},
		{"bytes raw", codecCase([]byte{0, 1, 255}, []byte{0, 1, 255})},
		{"bool true", codecCase(true, []byte{1})},
		{"bool false", codecCase(false, []byte{0})},
		{"int zig-zag", codecCase(-3, []byte{5})},
		{"int64 max", codecCase(int64(math.MaxInt64), nil)},
		{"int32", codecCase(int32(-70000), nil)},
		{"int16", codecCase(int16(300), []byte{0xd8, 0x04})},
		{"int8", codecCase(int8(-128), nil)},
		{"uint", codecCase(uint(300), []byte{0xac, 0x02})},
		{"uint64 max", codecCase(uint64(math.MaxUint64), nil)},
		{"uint32", codecCase(uint32(7), []byte{7})},
		{"uint16", codecCase(uint16(65535), nil)},
		{"byte", codecCase(uint8(200), []byte{200, 1})},
		{"float64", codecCase(1.5, f64)},
		{"float32", codecCase(float32(-2.25), f32)},
		{"binary marshaler", codecCase(point{3, -4}, []byte{3, 0xfc})},
		{"binary appender", codecCase(appendPoint{point{X: 9}}, []byte{'A', 9})},
		{"json struct", codecCase(record{"x", 2}, []byte(`{"name":"x","n":2}`))},
		{"json slice", codecCase([]int{1, 2}, []byte(`[1,2]`))},
		{"json map", codecCase(map[string]int{"a": 1}, []byte(`{"a":1}`))},
		{"json pointer", codecCase(&record{"p", 1}, []byte(`{"name":"p","n":1}`))},
		{"json KV as value", codecCase(KV[int]{"k", 1}, []byte(`{"Key":"k","Value":1}`))},
	}
	for _, tt := range tests {
		t.Run(tt.name, tt.run)
	}
}

func decodeErr[T any](b []byte) func() error {
	return func() error {
		_, err := valueCodecOf[T]().dec(b)
		return err
	}
}

func TestValueCodecErrors(t *testing.T) {
	tests := []struct {
		name string
		dec  func() error
	}{
		{"bool empty", decodeErr[bool](nil)},
		{"bool 2", decodeErr[bool]([]byte{2})},
		{"int truncated", decodeErr[int]([]byte{0x80})},
		{"int trailing", decodeErr[int]([]byte{1, 1})},
		{"int8 overflow", decodeErr[int8]([]byte{0x80, 0x02})},
		{"uint8 overflow", decodeErr[uint8]([]byte{0x80, 0x02})},
		{"uint empty", decodeErr[uint](nil)},
		{"float64 short", decodeErr[float64]([]byte{1, 2, 3})},
		{"float32 long", decodeErr[float32]([]byte{1, 2, 3, 4, 5})},
		{"marshaler", decodeErr[point]([]byte{1})},
		{"json", decodeErr[record]([]byte(`{"name":`))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.dec(); !errors.Is(err, ErrDecode) {
				t.Errorf("err = %v, want ErrDecode", err)
			}
		})
	}
}

func TestBytesDecodeCopies(t *testing.T) {
	src := []byte("abc")
	v, err := valueCodecOf[[]byte]().dec(src)
	if err != nil {
		t.Fatal(err)
	}
	src[0] = 'X'
	if string(v) != "abc" {
		t.Errorf("decoded bytes alias the request: %q", v)
	}
}

func TestItemCodecs(t *testing.T) {
	tests := []struct {
		name  string
		batch abi.Batch
		want  []abi.Item
	}{
		{"plain strings", batchOf("a", "bc"), []abi.Item{{Value: []byte("a")}, {Value: []byte("bc")}}},
		{"keyed ints", batchOf(KV[int]{"k", -1}, KV[int]{"", 2}), []abi.Item{
			{HasKey: true, Key: []byte("k"), Value: []byte{1}},
			{HasKey: true, Key: []byte{}, Value: []byte{4}},
		}},
		{"keyed structs", batchOf(KV[record]{"r", record{"n", 1}}), []abi.Item{
			{HasKey: true, Key: []byte("r"), Value: []byte(`{"name":"n","n":1}`)},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []abi.Item
			it := tt.batch.Iter()
			var item abi.Item
			for it.Next(&item) {
				item.Raw = nil
				if item.Key == nil && item.HasKey {
					item.Key = []byte{}
				}
				got = append(got, item)
			}
			if err := it.Err(); err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("items %v, want %v", got, tt.want)
			}
		})
	}
}

func TestItemCodecRoundTrip(t *testing.T) {
	in := []KV[[]string]{{"a", []string{"x"}}, {"b", nil}}
	if got := valuesOf[KV[[]string]](t, batchOf(in...)); !reflect.DeepEqual(got, in) {
		t.Errorf("got %v, want %v", got, in)
	}
}

func TestKeyedStreamNeedsKeys(t *testing.T) {
	_, err := newItemCodec[KV[string]]().decodeSlice(batchOf("no key"))
	if !errors.Is(err, ErrDecode) {
		t.Errorf("err = %v, want ErrDecode", err)
	}
}
