package abi

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// TestStreamMessageBytes pins the encoding of a Message (docs/abi.md, stream
// connectors) byte by byte, and decodes it back.
func TestStreamMessageBytes(t *testing.T) {
	m := Message{Subject: "s", Key: []byte("k"), Value: []byte("vv"),
		Headers: []Header{{"a", []byte("1")}, {"a", []byte("2")}}, Partition: "p", Seq: 300, Time: -1}
	want := []byte{
		1, 's', // subject
		1, 'k', // key
		2, 'v', 'v', // value
		2,              // two headers
		1, 'a', 1, '1', // a: 1
		1, 'a', 1, '2', // a: 2
		1, 'p', // partition
		0xac, 0x02, // seq 300
		1, // time -1, zig-zag
	}
	var w Writer
	m.Encode(&w)
	if !bytes.Equal(w.B, want) {
		t.Fatalf("encoded % x\nwant    % x", w.B, want)
	}
	got, err := DecodeMessage(want)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got) != fmt.Sprint(m) {
		t.Errorf("decoded %+v, want %+v", got, m)
	}
	for n := range want {
		if _, err := DecodeMessage(want[:n]); err == nil {
			t.Errorf("a message cut to %d bytes decoded", n)
		}
	}
	if _, err := DecodeMessage(append(want, 0)); err == nil {
		t.Error("a message with a trailing byte decoded")
	}
	hostile := []byte{0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0x0f} // 4G headers
	if _, err := DecodeMessage(hostile); !errors.Is(err, ErrTooLong) {
		t.Errorf("a hostile header count: %v", err)
	}
}

// TestStreamConn: the argument's JSON, and what DecodeStreamConn refuses.
func TestStreamConn(t *testing.T) {
	c := StreamConn{Conn: "events", Stream: "S", Subjects: []string{"a", "b"}, Tail: true, Batch: 10}
	want := `{"conn":"events","stream":"S","subjects":["a","b"],"tail":true,"batch":10}`
	if got := c.Encode(); got != want {
		t.Fatalf("encoded %s\nwant    %s", got, want)
	}
	back, err := DecodeStreamConn(want)
	if err != nil || fmt.Sprint(back) != fmt.Sprint(c) {
		t.Fatalf("decoded %+v, %v", back, err)
	}
	for arg, msg := range map[string]string{
		`{"conn":"x","queue":"q"}`: `unknown field "queue"`,
		`{"stream":"S"}`:           `names no connection`,
		`not json`:                 `not a stream connector's JSON object`,
		`{"conn":"x"}{"conn":"y"}`: `more than one JSON object`,
	} {
		if _, err := DecodeStreamConn(arg); err == nil || !strings.Contains(err.Error(), msg) {
			t.Errorf("%s: %v, want %q", arg, err, msg)
		}
	}
}
