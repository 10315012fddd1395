package transport

import (
	"bytes"
	"errors"
	"math"
	"testing"

	"github.com/bxwasm/bxwasm/guest-sdk/go/abi"
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

// TestChunkBytes pins a chunk's encoding.
func TestChunkBytes(t *testing.T) {
	c := chunk{From: 3, Size: 300, Offset: 2, Data: []byte("ab")}
	b := appendChunk(nil, c)
	if want := []byte{2, 3, 0xac, 0x02, 2, 'a', 'b'}; !bytes.Equal(b, want) {
		t.Fatalf("encoded % x, want % x", b, want)
	}
	got, err := decodeChunk(b)
	if err != nil || got.From != c.From || got.Size != c.Size || got.Offset != c.Offset || string(got.Data) != "ab" {
		t.Errorf("decoded %+v, %v; want %+v", got, err, c)
	}
}

// TestDecodeChunkErrors refuses chunks that are malformed or do not fit
// in their frame.
func TestDecodeChunkErrors(t *testing.T) {
	cases := []struct {
		name string
		b    []byte
	}{
		{"empty", nil},
		{"frame version", appendChunk(nil, chunk{Size: 1, Data: []byte("a")})[1:]},
		{"no data", appendChunk(nil, chunk{Size: 1})},
		{"past the frame", appendChunk(nil, chunk{Size: 3, Offset: 2, Data: []byte("ab")})},
		{"frame too large", appendChunk(nil, chunk{Size: maxFrame + 1, Data: []byte("a")})},
		{"truncated header", []byte{chunkVersion, 0x80}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, err := decodeChunk(c.b); !errors.Is(err, ErrWire) {
				t.Errorf("got %v, want ErrWire", err)
			}
		})
	}
}

// TestChunks splits a frame into chunks of at most n bytes and checks they
// cover it in order.
func TestChunks(t *testing.T) {
	frame := []byte("0123456789")
	var got []chunk
	_, err := chunks(nil, frame, 5, 4, func(b []byte) error {
		c, err := decodeChunk(b)
		c.Data = append([]byte(nil), c.Data...) // b is reused
		got = append(got, c)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []chunk{{5, 10, 0, []byte("0123")}, {5, 10, 4, []byte("4567")}, {5, 10, 8, []byte("89")}}
	if len(got) != len(want) {
		t.Fatalf("got %d chunks, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i].From != want[i].From || got[i].Size != want[i].Size || got[i].Offset != want[i].Offset || !bytes.Equal(got[i].Data, want[i].Data) {
			t.Errorf("chunk %d: got %+v, want %+v", i, got[i], want[i])
		}
	}
}

// FuzzDecodeMessage feeds arbitrary bytes to the frame decoder: it must not
// panic, and whatever it accepts must encode back to the same bytes.
func FuzzDecodeMessage(f *testing.F) {
	f.Add(appendFrame(nil, &frame{To: 5, Seq: 7, Msg: Message{From: 2, Node: 3, Kind: Data, Epoch: 9, Part: 1, Batch: testBatch("a", "bc")}}))
	f.Add(appendFrame(nil, &frame{To: 1, Msg: Message{Kind: Frontier, Epoch: math.MaxUint64}}))
	f.Add(appendAck(nil, ack{1, 2}))
	f.Add(appendChunk(nil, chunk{From: 1, Size: 5, Offset: 3, Data: []byte("ab")}))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		if a, err := decodeAck(b); err == nil {
			if again, err := decodeAck(appendAck(nil, a)); err != nil || again != a {
				t.Errorf("ack round trip: got %+v, %v, want %+v", again, err, a)
			}
		}
		if c, err := decodeChunk(b); err == nil {
			again, err := decodeChunk(appendChunk(nil, c))
			if err != nil || again.From != c.From || again.Size != c.Size || again.Offset != c.Offset || !bytes.Equal(again.Data, c.Data) {
				t.Errorf("chunk round trip: got %+v, %v, want %+v", again, err, c)
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
