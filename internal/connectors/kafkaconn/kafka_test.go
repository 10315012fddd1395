package kafkaconn

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/bxwasm/bxwasm/guest-sdk/go/abi"
	"github.com/bxwasm/bxwasm/internal/connectors"
)

// cluster starts an in-process Kafka cluster with topics (name:
// partitions) and returns the connection "kf" to it.
func cluster(t *testing.T, topics map[string]int32, opts ...kfake.Opt) connectors.Connection {
	t.Helper()
	opts = append(opts, kfake.NumBrokers(1))
	for name, n := range topics {
		opts = append(opts, kfake.SeedTopics(n, name))
	}
	c, err := kfake.NewCluster(opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return connectors.Connection{Name: "kf", URL: "kafka://" + strings.Join(c.ListenAddrs(), ",kafka://")}
}

// client opens a plain client on conn, producing into the partition each
// record names.
func client(t *testing.T, conn connectors.Connection) *kgo.Client {
	t.Helper()
	cl, err := newClient(conn, kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

// produce writes recs and waits for their acknowledgement.
func produce(t *testing.T, cl *kgo.Client, recs ...*kgo.Record) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
}

// records makes n records of topic, record i in partition i mod parts
// with key "k<i>", value "v<i>" and a header h=<i>, stored at at.
func records(topic string, parts, from, n int, at time.Time) []*kgo.Record {
	var out []*kgo.Record
	for i := from; i < from+n; i++ {
		out = append(out, &kgo.Record{Topic: topic, Partition: int32(i % parts), Timestamp: at,
			Key: fmt.Appendf(nil, "k%d", i), Value: fmt.Appendf(nil, "v%d", i),
			Headers: []kgo.RecordHeader{{Key: "h", Value: fmt.Appendf(nil, "%d", i)}}})
	}
	return out
}

// readTopic returns every record of every partition of topic, by
// partition then offset.
func readTopic(t *testing.T, conn connectors.Connection, topic string) []*kgo.Record {
	t.Helper()
	cl := client(t, conn)
	s := &sink{topic: topic, conn: conn, cl: cl}
	var out []*kgo.Record
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ends, err := offsetsOf(ctx, conn, []string{topic}, kadm.NewClient(cl).ListEndOffsets)
	if err != nil {
		t.Fatal(err)
	}
	for p := range int32(len(ends[topic])) {
		end, _ := ends.Lookup(topic, p)
		for off := int64(0); off < end.Offset; off++ {
			r, err := s.readAt(ctx, p, off)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, r)
		}
	}
	return out
}

// drain reads a partition until it ends or has want items, for at most
// 10 seconds; it returns the values and whether the partition ended.
func drain(t *testing.T, p connectors.SourcePart, want int) ([][]byte, bool) {
	t.Helper()
	var out [][]byte
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		var b abi.Batch
		eof, err := p.Next(&b, 7)
		if err != nil {
			t.Fatal(err)
		}
		it := b.Iter()
		var item abi.Item
		for it.Next(&item) {
			out = append(out, append([]byte{}, item.Value...))
		}
		if eof || (want >= 0 && len(out) >= want) {
			return out, eof
		}
		if b.N == 0 {
			time.Sleep(time.Millisecond)
		}
	}
	return out, false
}

func newSource(t *testing.T, arg abi.StreamConn, conn connectors.Connection) connectors.PartitionedSource {
	t.Helper()
	s, err := NewSource("flow.inp", arg, conn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.(*source).Close() })
	return s
}

func open(t *testing.T, s connectors.PartitionedSource, part string, resume []byte) connectors.SourcePart {
	t.Helper()
	p, err := s.Open(part, resume)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// TestSourceBounded reads three partitions to the end they had when the
// source was created, as messages: records produced later are not read.
func TestSourceBounded(t *testing.T) {
	conn := cluster(t, map[string]int32{"in": 3})
	cl := client(t, conn)
	at := time.UnixMilli(1_700_000_000_000)
	produce(t, cl, records("in", 3, 0, 30, at)...)
	s := newSource(t, abi.StreamConn{Conn: "kf", Topics: []string{"in"}}, conn)
	produce(t, cl, records("in", 3, 30, 3, at)...)
	parts, _ := s.Parts()
	if !slices.Equal(parts, []string{"in/0", "in/1", "in/2"}) {
		t.Fatalf("parts %q", parts)
	}
	for p, part := range parts {
		vals, eof := drain(t, open(t, s, part, nil), -1)
		if !eof || len(vals) != 10 {
			t.Fatalf("%s: %d items, eof %v; want 10 and the end", part, len(vals), eof)
		}
		for j, v := range vals {
			m, err := abi.DecodeMessage(v)
			if err != nil {
				t.Fatal(err)
			}
			i := 3*j + p
			want := abi.Message{Subject: "in", Key: fmt.Appendf(nil, "k%d", i), Value: fmt.Appendf(nil, "v%d", i),
				Headers: []abi.Header{{Name: "h", Value: fmt.Appendf(nil, "%d", i)}}, Partition: part, Seq: uint64(j), Time: at.UnixNano()}
			if got := fmt.Sprintf("%+v", m); got != fmt.Sprintf("%+v", want) {
				t.Errorf("%s item %d: %s, want %+v", part, j, got, want)
			}
		}
	}
}

// TestSourcePayload emits only the records' values; the partitions are
// those of every topic, and an empty one ends at once.
func TestSourcePayload(t *testing.T) {
	conn := cluster(t, map[string]int32{"in": 1, "more": 2})
	produce(t, client(t, conn), records("in", 1, 0, 3, time.Now())...)
	s := newSource(t, abi.StreamConn{Conn: "kf", Topics: []string{"in", "more"}, Format: abi.FormatPayload}, conn)
	if parts, _ := s.Parts(); !slices.Equal(parts, []string{"in/0", "more/0", "more/1"}) {
		t.Errorf("parts %q", parts)
	}
	if vals, eof := drain(t, open(t, s, "more/1", nil), -1); !eof || len(vals) != 0 {
		t.Errorf("an empty partition: %d items, eof %v; want none and the end", len(vals), eof)
	}
	vals, eof := drain(t, open(t, s, "in/0", nil), -1)
	if got := fmt.Sprintf("%s", vals); !eof || got != "[v0 v1 v2]" {
		t.Errorf("got %s (eof %v), want [v0 v1 v2] and the end", got, eof)
	}
}

// TestSourceStart starts partitions without resume state where Start
// says: "new" reads only what is produced after the partition opened.
func TestSourceStart(t *testing.T) {
	t0 := time.UnixMilli(1_700_000_000_000)
	tests := []struct {
		name  string
		arg   abi.StreamConn
		first int // the first record read
	}{
		{"first", abi.StreamConn{}, 0},
		{"explicit first", abi.StreamConn{Start: "first"}, 0},
		{"time", abi.StreamConn{Start: "time", StartTime: t0.Add(90 * time.Minute).Format(time.RFC3339)}, 2},
		{"time before", abi.StreamConn{Start: "time", StartTime: t0.Add(-time.Hour).Format(time.RFC3339)}, 0},
		{"new", abi.StreamConn{Start: "new"}, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conn := cluster(t, map[string]int32{"in": 1})
			cl := client(t, conn)
			for i := range 4 {
				produce(t, cl, records("in", 1, i, 1, t0.Add(time.Duration(i)*time.Hour))...)
			}
			arg := tt.arg
			arg.Conn, arg.Topics, arg.Format, arg.Tail = "kf", []string{"in"}, abi.FormatPayload, true
			p := open(t, newSource(t, arg, conn), "in/0", nil)
			produce(t, cl, records("in", 1, 4, 2, t0.Add(4*time.Hour))...)
			vals, _ := drain(t, p, 6-tt.first)
			var want [][]byte
			for i := tt.first; i < 6; i++ {
				want = append(want, fmt.Appendf(nil, "v%d", i))
			}
			if fmt.Sprintf("%s", vals) != fmt.Sprintf("%s", want) {
				t.Errorf("got %s, want %s", vals, want)
			}
		})
	}
}

// TestSourceTail keeps reading what is produced and never ends.
func TestSourceTail(t *testing.T) {
	conn := cluster(t, map[string]int32{"in": 1})
	cl := client(t, conn)
	produce(t, cl, records("in", 1, 0, 2, time.Now())...)
	s := newSource(t, abi.StreamConn{Conn: "kf", Topics: []string{"in"}, Tail: true, Format: abi.FormatPayload}, conn)
	p := open(t, s, "in/0", nil)
	if vals, eof := drain(t, p, 2); eof || len(vals) != 2 {
		t.Fatalf("got %s (eof %v), want 2 items", vals, eof)
	}
	produce(t, cl, records("in", 1, 2, 3, time.Now())...)
	if vals, eof := drain(t, p, 3); eof || fmt.Sprintf("%s", vals) != "[v2 v3 v4]" {
		t.Fatalf("got %s (eof %v), want [v2 v3 v4]", vals, eof)
	}
	var b abi.Batch
	if eof, err := p.Next(&b, 10); eof || err != nil || b.N != 0 {
		t.Errorf("a caught-up tail: eof %v, err %v, %d items; want none and no end", eof, err, b.N)
	}
}

// TestSourceResume continues a partition right after the snapshot, also
// when the snapshot was taken in the middle of a batch read ahead.
func TestSourceResume(t *testing.T) {
	conn := cluster(t, map[string]int32{"in": 1})
	produce(t, client(t, conn), records("in", 1, 0, 20, time.Now())...)
	s := newSource(t, abi.StreamConn{Conn: "kf", Topics: []string{"in"}, Format: abi.FormatPayload, Batch: 5}, conn)
	p := open(t, s, "in/0", nil)
	first, _ := drain(t, p, 9) // hands out 7, then 2 of a batch of 5
	snap := p.Snapshot()
	p.Close()
	rest, eof := drain(t, open(t, s, "in/0", snap), -1)
	got := fmt.Sprintf("%s", append(first, rest...))
	if want := fmt.Sprintf("%s", records2values(20)); !eof || got != want {
		t.Errorf("%d items then %d after the resume: %s, want %s", len(first), len(rest), got, want)
	}
	if _, err := s.Open("in/0", []byte{0x80}); err == nil {
		t.Error("a truncated resume state was accepted")
	}
}

func records2values(n int) [][]byte {
	var out [][]byte
	for i := range n {
		out = append(out, fmt.Appendf(nil, "v%d", i))
	}
	return out
}

// TestErrors fails NewSource and NewSink before the run, naming the
// connection, the topic or the argument at fault.
func TestErrors(t *testing.T) {
	conn := cluster(t, map[string]int32{"in": 1})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	down := connectors.Connection{Name: "gone", URL: "kafka://" + l.Addr().String()}
	l.Close()
	src := func(c connectors.Connection, a abi.StreamConn) error { _, err := NewSource("s", a, c); return err }
	snk := func(c connectors.Connection, a abi.StreamConn) error { _, err := NewSink("s", a, c); return err }
	tests := []struct {
		name string
		call func(connectors.Connection, abi.StreamConn) error
		conn connectors.Connection
		arg  abi.StreamConn
		is   error
		want []string
	}{
		{"source unreachable", src, down, abi.StreamConn{Topics: []string{"in"}}, ErrUnreachable, []string{`connection "gone"`, "at most 5s"}},
		{"sink unreachable", snk, down, abi.StreamConn{Topic: "in"}, ErrUnreachable, []string{`connection "gone"`}},
		{"source missing topic", src, conn, abi.StreamConn{Topics: []string{"in", "nope"}}, ErrNoTopic, []string{`topic "nope" on connection "kf"`}},
		{"sink missing topic", snk, conn, abi.StreamConn{Topic: "nope"}, ErrNoTopic, []string{`topic "nope" on connection "kf"`}},
		{"source no topics", src, conn, abi.StreamConn{}, ErrBadArg, []string{"needs topics"}},
		{"source bad start", src, conn, abi.StreamConn{Topics: []string{"in"}, Start: "soon"}, ErrBadArg, []string{`start "soon"`}},
		{"source bad time", src, conn, abi.StreamConn{Topics: []string{"in"}, Start: "time", StartTime: "noon"}, ErrBadArg, []string{`start_time "noon"`}},
		{"source bad format", src, conn, abi.StreamConn{Topics: []string{"in"}, Format: "xml"}, ErrBadArg, []string{`format "xml"`}},
		{"source subject", src, conn, abi.StreamConn{Topics: []string{"in"}, Subject: "x"}, ErrBadArg, []string{"topics, start"}},
		{"sink no topic", snk, conn, abi.StreamConn{}, ErrBadArg, []string{"needs a topic"}},
		{"sink tail", snk, conn, abi.StreamConn{Topic: "in", Tail: true}, ErrBadArg, []string{"a topic and a format only"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.arg.Conn = tt.conn.Name
			start := time.Now()
			err := tt.call(tt.conn, tt.arg)
			if !errors.Is(err, tt.is) {
				t.Fatalf("error %v, want %v", err, tt.is)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			if took := time.Since(start); took > 3*dialTimeout {
				t.Errorf("took %v, want at most %v", took, 3*dialTimeout)
			}
		})
	}
}

// TestSASL authenticates with the user and password of the URL.
func TestSASL(t *testing.T) {
	conn := cluster(t, map[string]int32{"in": 1}, kfake.EnableSASL(), kfake.Superuser("PLAIN", "ann", "s3cret"))
	conn.URL = strings.Replace(conn.URL, "kafka://", "kafka://ann:s3cret@", 1)
	if _, err := NewSink("s", abi.StreamConn{Conn: "kf", Topic: "in"}, conn); err != nil {
		t.Fatal(err)
	}
	conn.URL = strings.Replace(conn.URL, "s3cret", "wrong", 1)
	if _, err := NewSink("s", abi.StreamConn{Conn: "kf", Topic: "in"}, conn); err == nil {
		t.Error("a wrong password was accepted")
	}
}

// TestDeadLetter produces a poison record, with where it came from and
// why, to the dead-letter topic.
func TestDeadLetter(t *testing.T) {
	conn := cluster(t, map[string]int32{"in": 1, "dead": 1})
	produce(t, client(t, conn), records("in", 1, 0, 3, time.UnixMilli(1_700_000_000_000))...)
	s := newSource(t, abi.StreamConn{Conn: "kf", Topics: []string{"in"}}, conn)
	vals, _ := drain(t, open(t, s, "in/0", nil), -1)
	where, err := s.(connectors.DeadLetters).DeadLetter("dead", vals[1], "it does not parse")
	if err != nil {
		t.Fatal(err)
	}
	if want := `record 1 of partition "in/0" of flow.inp`; where != want {
		t.Errorf("where = %q, want %q", where, want)
	}
	recs := readTopic(t, conn, "dead")
	if len(recs) != 1 || string(recs[0].Key) != "k1" || string(recs[0].Value) != "v1" {
		t.Fatalf("dead holds %d records: %+v", len(recs), recs)
	}
	got := map[string]string{}
	for _, h := range recs[0].Headers {
		got[h.Key] = string(h.Value)
	}
	want := map[string]string{"h": "1", connectors.HeaderPartition: "in/0", connectors.HeaderSeq: "1",
		connectors.HeaderSubject: "in", connectors.HeaderStep: "flow.inp", connectors.HeaderError: "it does not parse"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("headers %v, want %v", got, want)
	}
}
