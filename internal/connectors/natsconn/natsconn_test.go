package natsconn

import (
	"context"
	"encoding/binary"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bxwasm/bxwasm/guest-sdk/go/abi"
	"github.com/bxwasm/bxwasm/internal/connectors"
	"github.com/bxwasm/bxwasm/internal/testutil"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// server starts JetStream with a stream S over subjects s.a, s.b, s.c and
// returns a granted connection and a client.
func server(t *testing.T) (connectors.Connection, *nats.Conn, jetstream.JetStream) {
	t.Helper()
	url := testutil.JetStream(t)
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := js.CreateStream(context.Background(), jetstream.StreamConfig{Name: "S", Subjects: []string{"s.*"}}); err != nil {
		t.Fatal(err)
	}
	return connectors.Connection{Name: "c", URL: url}, nc, js
}

// publish sends "<subject>-<i>" to each subject in turn, n times.
func publish(t *testing.T, js jetstream.JetStream, n int, subjects ...string) {
	t.Helper()
	for i := range n {
		for _, s := range subjects {
			if _, err := js.Publish(context.Background(), s, fmt.Appendf(nil, "%s-%d", s, i)); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func source(t *testing.T, conn connectors.Connection, arg abi.StreamConn) connectors.PartitionedSource {
	t.Helper()
	arg.Conn = conn.Name
	s, err := NewJetStreamSource("f.inp", arg, conn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.(*jsSource).Close() })
	return s
}

// read polls a partition until it ends or has want items (-1: until it
// ends), for at most 10 s, and returns the payloads.
func read(t *testing.T, p connectors.SourcePart, want int) ([]string, bool) {
	t.Helper()
	var out []string
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		var b abi.Batch
		n := 100
		if want > 0 {
			n = want - len(out)
		}
		eof, err := p.Next(&b, n)
		if err != nil {
			t.Fatal(err)
		}
		it := b.Iter()
		var item abi.Item
		for it.Next(&item) {
			v := item.Value
			if m, err := abi.DecodeMessage(v); err == nil {
				v = m.Value
			}
			out = append(out, string(v))
		}
		if eof || (want >= 0 && len(out) >= want) {
			return out, eof
		}
		if b.N == 0 {
			time.Sleep(5 * time.Millisecond)
		}
	}
	return out, false
}

func openPart(t *testing.T, s connectors.PartitionedSource, part string, resume []byte) connectors.SourcePart {
	t.Helper()
	p, err := s.Open(part, resume)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// TestSourcePartitions: the stream's subjects by default, declared filters,
// or the subjects matching a pattern.
func TestSourcePartitions(t *testing.T) {
	conn, _, js := server(t)
	publish(t, js, 2, "s.a", "s.b", "s.c")
	for _, tc := range []struct {
		arg  abi.StreamConn
		want []string
	}{
		{abi.StreamConn{Stream: "S"}, []string{"s.*"}},
		{abi.StreamConn{Stream: "S", Subjects: []string{"s.a", "s.c"}}, []string{"s.a", "s.c"}},
		{abi.StreamConn{Stream: "S", PartitionBy: "s.*"}, []string{"s.a", "s.b", "s.c"}},
	} {
		parts, _ := source(t, conn, tc.arg).Parts()
		if !slices.Equal(parts, tc.want) {
			t.Errorf("%+v: parts %q, want %q", tc.arg, parts, tc.want)
		}
	}
}

// TestSourceBounded: a partition ends at its last message when the source
// was created, and its snapshot resumes right after what it emitted.
func TestSourceBounded(t *testing.T) {
	conn, _, js := server(t)
	publish(t, js, 5, "s.a", "s.b")
	s := source(t, conn, abi.StreamConn{Stream: "S", PartitionBy: "s.*"})
	publish(t, js, 1, "s.a") // after the start: not read
	p := openPart(t, s, "s.a", nil)
	got, _ := read(t, p, 2)
	snap := p.Snapshot()
	if !slices.Equal(got, []string{"s.a-0", "s.a-1"}) {
		t.Fatalf("first items %q", got)
	}
	rest, eof := read(t, openPart(t, s, "s.a", snap), -1)
	if !eof || !slices.Equal(rest, []string{"s.a-2", "s.a-3", "s.a-4"}) {
		t.Fatalf("resumed: %q (eof %v), want s.a-2 … s.a-4 and the end", rest, eof)
	}
	if seq, _ := binary.Uvarint(snap); seq != 3 { // s.a-1 is the stream's third message
		t.Errorf("snapshot is sequence %d, want 3", seq)
	}
	// A snapshot at the bound ends at once; a bad one is refused.
	if _, eof := read(t, openPart(t, s, "s.b", binary.AppendUvarint(nil, 10)), -1); !eof {
		t.Error("a partition resumed at its bound did not end")
	}
	if _, err := s.Open("s.b", []byte{0xff}); err == nil || !strings.Contains(err.Error(), "not a stream sequence") {
		t.Errorf("bad resume state: %v", err)
	}
}

// TestSourceStartAndTail: "new" reads only what comes after the start, a
// time start reads from then, and a tail partition keeps waiting.
func TestSourceStartAndTail(t *testing.T) {
	conn, _, js := server(t)
	publish(t, js, 3, "s.a")
	time.Sleep(20 * time.Millisecond)
	mid := time.Now()
	publish(t, js, 1, "s.b")
	s := source(t, conn, abi.StreamConn{Stream: "S", Start: "new", Tail: true})
	p := openPart(t, s, "s.*", nil)
	if got, eof := read(t, p, 0); len(got) != 0 || eof {
		t.Fatalf("new: %q before anything was published (eof %v)", got, eof)
	}
	// Before its first message a "new" partition is placed after the
	// stream's last message at the start, so a resume misses nothing.
	if seq, n := binary.Uvarint(p.Snapshot()); n <= 0 || seq != 4 {
		t.Errorf("new: snapshot %v, want sequence 4", p.Snapshot())
	}
	publish(t, js, 1, "s.c")
	if got, eof := read(t, p, 1); !slices.Equal(got, []string{"s.c-0"}) || eof {
		t.Fatalf("new, tail: %q (eof %v), want s.c-0 and no end", got, eof)
	}
	ts := source(t, conn, abi.StreamConn{Stream: "S", Start: "time", StartTime: mid.Format(time.RFC3339Nano)})
	tp := openPart(t, ts, "s.*", nil)
	if tp.Snapshot() != nil {
		t.Errorf("time: a position %v before the first message", tp.Snapshot())
	}
	if got, eof := read(t, tp, -1); !slices.Equal(got, []string{"s.b-0", "s.c-0"}) || !eof {
		t.Fatalf("time: %q (eof %v), want s.b-0, s.c-0 and the end", got, eof)
	}
}

// TestSourceMessage: each item is a Message with the subject, headers,
// partition, sequence and time.
func TestSourceMessage(t *testing.T) {
	conn, nc, js := server(t)
	m := nats.NewMsg("s.a")
	m.Data = []byte("hello")
	m.Header.Add("b", "2")
	m.Header.Add("a", "1")
	if _, err := js.PublishMsg(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	_ = nc
	p := openPart(t, source(t, conn, abi.StreamConn{Stream: "S"}), "s.*", nil)
	var b abi.Batch
	deadline := time.Now().Add(10 * time.Second)
	for b.N == 0 && time.Now().Before(deadline) {
		if _, err := p.Next(&b, 10); err != nil {
			t.Fatal(err)
		}
	}
	it := b.Iter()
	var item abi.Item
	if !it.Next(&item) {
		t.Fatal("no item")
	}
	got, err := abi.DecodeMessage(item.Value)
	if err != nil {
		t.Fatal(err)
	}
	if got.Subject != "s.a" || string(got.Value) != "hello" || got.Partition != "s.*" || got.Seq != 1 ||
		time.Since(time.Unix(0, got.Time)) > time.Minute || fmt.Sprint(got.Headers) != "[{a [49]} {b [50]}]" {
		t.Errorf("message %+v", got)
	}
}

// TestArgs: fields a connector does not use, and bad values, are refused.
func TestArgs(t *testing.T) {
	conn := connectors.Connection{Name: "c", URL: "nats://127.0.0.1:1"}
	for _, tc := range []struct {
		new  func(string, abi.StreamConn, connectors.Connection) (any, error)
		arg  abi.StreamConn
		want string
	}{
		{jsSourceAny, abi.StreamConn{Conn: "c"}, "needs a stream"},
		{jsSourceAny, abi.StreamConn{Conn: "c", Stream: "S", Topic: "t"}, `does not take "topic"`},
		{jsSourceAny, abi.StreamConn{Conn: "c", Stream: "S", Subjects: []string{"a"}, PartitionBy: "b"}, "not both"},
		{jsSourceAny, abi.StreamConn{Conn: "c", Stream: "S", Start: "later"}, `start "later"`},
		{jsSourceAny, abi.StreamConn{Conn: "c", Stream: "S", Start: "time", StartTime: "yesterday"}, "not an RFC 3339 time"},
		{jsSourceAny, abi.StreamConn{Conn: "c", Stream: "S", Format: "xml"}, `format "xml"`},
		{jsSinkAny, abi.StreamConn{Conn: "c"}, "needs a subject"},
		{jsSinkAny, abi.StreamConn{Conn: "c", Subject: "x", Partitions: 5000}, "5000 sink partitions"},
		{coreSourceAny, abi.StreamConn{Conn: "c"}, "needs at least one subject"},
		{coreSinkAny, abi.StreamConn{Conn: "c", Subject: "x", Stream: "S"}, `does not take "stream"`},
	} {
		_, err := tc.new("f.step", tc.arg, conn)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want %q", tc.arg, err, tc.want)
		}
	}
}

func jsSourceAny(s string, a abi.StreamConn, c connectors.Connection) (any, error) {
	return NewJetStreamSource(s, a, c)
}
func jsSinkAny(s string, a abi.StreamConn, c connectors.Connection) (any, error) {
	return NewJetStreamSink(s, a, c)
}
func coreSourceAny(s string, a abi.StreamConn, c connectors.Connection) (any, error) {
	return NewCoreSource(s, a, c)
}
func coreSinkAny(s string, a abi.StreamConn, c connectors.Connection) (any, error) {
	return NewCoreSink(s, a, c)
}
