package transport

import (
	"bytes"
	"errors"
	"math"
	"testing"

	"github.com/bxwasm/bxwasm/internal/abi"
)

func testBatch(values ...string) abi.Batch {
	var b abi.Batch
	for i, v := range values {
		b.Append([]byte{byte(i)}, i%2 == 0, []byte(v))
	}
	return b
}

// TestFrameRoundTrip encodes frames and checks they decode to the same.
func TestFrameRoundTrip(t *testing.T) {
	cases := []struct {
		name string
		f    frame
	}{
		{"data", frame{To: 5, Seq: 7, Msg: Message{From: 2, Node: 3, Kind: Data, Epoch: 9, Part: 1, Batch: testBatch("a", "bc")}}},
		{"frontier", frame{To: 0, Seq: 0, Msg: Message{From: 1, Node: 0, Kind: Frontier, Epoch: 4}}},
		{"eof frontier", frame{To: 1, Seq: math.MaxUint64, Msg: Message{Kind: Frontier, Epoch: math.MaxUint64}}},
		{"no partition", frame{To: 1, Msg: Message{Kind: Data, Part: -1, Batch: testBatch("x")}}},
		{"largest indices", frame{To: maxIndex, Msg: Message{From: maxIndex, Node: maxIndex, Kind: Data, Part: maxIndex}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := appendFrame([]byte("prefix"), &c.f)
			got, err := decodeFrame(b[len("prefix"):])
			if err != nil {
				t.Fatal(err)
			}
			if !sameFrame(got, c.f) {
				t.Errorf("got %+v, want %+v", got, c.f)
			}
		})
	}
}

func sameFrame(a, b frame) bool {
	x, y := a.Msg, b.Msg
	return a.To == b.To && a.Seq == b.Seq && x.From == y.From && x.Node == y.Node && x.Kind == y.Kind &&
		x.Epoch == y.Epoch && x.Part == y.Part && x.Batch.N == y.Batch.N && bytes.Equal(x.Batch.Body, y.Batch.Body)
}

// TestDecodeFrameErrors checks that malformed frames are refused.
func TestDecodeFrameErrors(t *testing.T) {
	good := appendFrame(nil, &frame{To: 1, Seq: 2, Msg: Message{Kind: Data, Batch: testBatch("a")}})
	cases := []struct {
		name string
		b    []byte
	}{
		{"empty", nil},
		{"version", append([]byte{2}, good[1:]...)},
		{"truncated", good[:len(good)-1]},
		{"trailing", append(append([]byte(nil), good...), 0)},
		{"kind", appendFrame(nil, &frame{Msg: Message{Kind: 3}})},
		{"sender too large", appendFrame(nil, &frame{Msg: Message{From: maxIndex + 1, Kind: Data}})},
		{"partition too small", appendFrame(nil, &frame{Msg: Message{Kind: Data, Part: -2}})},
		{"batch count", appendFrame(nil, &frame{Msg: Message{Kind: Data, Batch: abi.Batch{N: 2, Body: testBatch("a").Body}}})},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, err := decodeFrame(c.b); !errors.Is(err, ErrWire) {
				t.Errorf("got %v, want ErrWire", err)
			}
		})
	}
}

// TestAckRoundTrip encodes acks and checks decoding, and refuses bad ones.
func TestAckRoundTrip(t *testing.T) {
	for _, a := range []ack{{0, 0}, {3, 64}, {maxIndex, math.MaxUint64}} {
		got, err := decodeAck(appendAck(nil, a))
		if err != nil || got != a {
			t.Errorf("ack %+v: got %+v, %v", a, got, err)
		}
	}
	good := appendAck(nil, ack{1, 2})
	for name, b := range map[string][]byte{"empty": nil, "short": good[:2], "trailing": append(good, 1), "version": {0, 1, 2}} {
		if _, err := decodeAck(b); !errors.Is(err, ErrWire) {
			t.Errorf("%s: got %v, want ErrWire", name, err)
		}
	}
}

// FuzzDecodeMessage feeds arbitrary bytes to the frame decoder: it must not
// panic, and whatever it accepts must encode back to the same bytes.
func FuzzDecodeMessage(f *testing.F) {
	f.Add(appendFrame(nil, &frame{To: 5, Seq: 7, Msg: Message{From: 2, Node: 3, Kind: Data, Epoch: 9, Part: 1, Batch: testBatch("a", "bc")}}))
	f.Add(appendFrame(nil, &frame{To: 1, Msg: Message{Kind: Frontier, Epoch: math.MaxUint64}}))
	f.Add(appendAck(nil, ack{1, 2}))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		if a, err := decodeAck(b); err == nil {
			if again, err := decodeAck(appendAck(nil, a)); err != nil || again != a {
				t.Errorf("ack round trip: got %+v, %v, want %+v", again, err, a)
			}
		}
		fr, err := decodeFrame(b)
		if err != nil {
			return
		}
		again, err := decodeFrame(appendFrame(nil, &fr))
		if err != nil {
			t.Fatalf("re-encoded frame does not decode: %v", err)
		}
		if !sameFrame(again, fr) {
			t.Errorf("round trip: got %+v, want %+v", again, fr)
		}
	})
}
