package natsconn

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/bxwasm/bxwasm/guest-sdk/go/abi"
	"github.com/bxwasm/bxwasm/internal/connectors"
	"github.com/nats-io/nats.go/jetstream"
)

// values makes a batch of keyed items "<prefix>0" … .
func values(prefix string, n int) abi.Batch {
	var b abi.Batch
	for i := range n {
		b.Append([]byte("k"), true, fmt.Appendf(nil, "%s%d", prefix, i))
	}
	return b
}

// stored lists the payloads and ids of stream name's messages.
func stored(t *testing.T, js jetstream.JetStream, name string) []string {
	t.Helper()
	ctx := context.Background()
	s, err := js.Stream(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for seq := info.State.FirstSeq; seq <= info.State.LastSeq && info.State.Msgs > 0; seq++ {
		m, err := s.GetMsg(ctx, seq)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, string(m.Data)+"@"+m.Header.Get("Nats-Msg-Id"))
	}
	return out
}

// TestStagedSink: nothing is published before its epoch is committed; a
// partition resumed from a snapshot publishes what it held under the same
// ids, which the stream drops when it has them.
func TestStagedSink(t *testing.T) {
	conn, _, js := server(t)
	ctx := context.Background()
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "OUT", Subjects: []string{"out"}}); err != nil {
		t.Fatal(err)
	}
	s, err := NewJetStreamSink("f.out", abi.StreamConn{Conn: "c", Subject: "out", Partitions: 2}, conn)
	if err != nil {
		t.Fatal(err)
	}
	defer s.(*jsSink).Close()
	if parts, _ := s.Parts(); !slices.Equal(parts, []string{"0", "1"}) {
		t.Fatalf("parts %q", parts)
	}
	sp, err := s.Open("1", nil)
	if err != nil {
		t.Fatal(err)
	}
	p := sp.(connectors.StagedSinkPart)
	p.WriteEpoch(3, values("a", 2))
	p.WriteEpoch(3, values("b", 1))
	p.WriteEpoch(4, values("c", 1))
	if got := stored(t, js, "OUT"); len(got) != 0 || p.Pending() != 4 {
		t.Fatalf("before a commit: %q, pending %d", got, p.Pending())
	}
	snap := p.Snapshot()
	if err := p.Committed(3); err != nil {
		t.Fatal(err)
	}
	want := []string{"a0@f.out/1/3/0", "a1@f.out/1/3/1", "b0@f.out/1/3/2"}
	if got := stored(t, js, "OUT"); !slices.Equal(got, want) || p.Pending() != 4 {
		t.Fatalf("after epoch 3: %q, pending %d; want %q", got, p.Pending(), want)
	}
	// A crash, and a resume from the snapshot taken before epoch 3 went out.
	sp2, err := s.Open("1", snap)
	if err != nil {
		t.Fatal(err)
	}
	p2 := sp2.(connectors.StagedSinkPart)
	if err := p2.Committed(4); err != nil {
		t.Fatal(err)
	}
	want = append(want, "c0@f.out/1/4/0")
	if got := stored(t, js, "OUT"); !slices.Equal(got, want) || p2.Pending() != 0 {
		t.Fatalf("after the resume: %q, pending %d; want %q", got, p2.Pending(), want)
	}
	if _, err := s.Open("1", []byte{1, 2}); err == nil {
		t.Error("a bad snapshot was taken")
	}
}

// TestCore: a core NATS source gets what is published while it is
// subscribed; a core NATS sink publishes right away.
func TestCore(t *testing.T) {
	conn, nc, _ := server(t)
	src, err := NewCoreSource("f.inp", abi.StreamConn{Conn: "c", Subjects: []string{"in.a", "in.b"}, Format: abi.FormatPayload}, conn)
	if err != nil {
		t.Fatal(err)
	}
	defer src.(*coreSource).Close()
	p := openPart(t, src, "in.b", nil)
	sink, err := NewCoreSink("f.out", abi.StreamConn{Conn: "c", Subject: "in.b"}, conn)
	if err != nil {
		t.Fatal(err)
	}
	defer sink.(*coreSink).Close()
	sp, err := sink.Open("0", nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := sp.Write(values("x", 3)); err != nil {
		t.Fatal(err)
	}
	nc.Publish("in.a", []byte("elsewhere"))
	got, eof := read(t, p, 3)
	if !slices.Equal(got, []string{"x0", "x1", "x2"}) || eof {
		t.Fatalf("core source read %q (eof %v)", got, eof)
	}
	if p.Snapshot() != nil || sp.Snapshot() != nil {
		t.Error("core NATS parts have a position")
	}
	time.Sleep(10 * time.Millisecond)
	if more, _ := read(t, p, 0); len(more) != 0 {
		t.Errorf("read %q from another subject", more)
	}
}
