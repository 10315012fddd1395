package bx

import (
	"bytes"
	"errors"
	"reflect"
	"testing"
	"time"
)

// TestWindowMetadataBinary pins the bytes of WindowMetadata, decodes them
// back and rejects damaged input.
func TestWindowMetadataBinary(t *testing.T) {
	at := func(ns int64) time.Time { return time.Unix(0, ns).UTC() }
	cases := []struct {
		name string
		m    WindowMetadata
		want []byte
	}{
		{"tumbling", WindowMetadata{OpenTime: at(60), CloseTime: at(120)}, []byte{120, 0xf0, 0x01, 0}},
		{"merged session", WindowMetadata{OpenTime: at(-1), CloseTime: at(0), MergedIDs: []int64{1, 3}}, []byte{1, 0, 2, 2, 6}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.m.MarshalBinary()
			if err != nil || !bytes.Equal(got, tc.want) {
				t.Fatalf("MarshalBinary = %v, %v; want %v", got, err, tc.want)
			}
			var back WindowMetadata
			if err := back.UnmarshalBinary(got); err != nil || !reflect.DeepEqual(back, tc.m) {
				t.Errorf("UnmarshalBinary = %+v, %v; want %+v", back, err, tc.m)
			}
		})
	}
	for _, bad := range [][]byte{nil, {120}, {120, 0xf0, 0x01}, {2, 4, 5, 1}, {2, 4, 1, 0x80}, {2, 4, 0, 9}} {
		var m WindowMetadata
		if err := m.UnmarshalBinary(bad); !errors.Is(err, errWindowed) {
			t.Errorf("UnmarshalBinary(%v) = %v, want errWindowed", bad, err)
		}
	}
}
