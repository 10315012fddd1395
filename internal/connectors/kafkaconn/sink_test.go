package kafkaconn

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/bxwasm/bxwasm/guest-sdk/go/abi"
	"github.com/bxwasm/bxwasm/internal/connectors"
)

// keyed makes a batch of keyed items "<prefix><i>" = "<prefix>v<i>".
func keyed(prefix string, n int) abi.Batch {
	var b abi.Batch
	for i := range n {
		b.Append(fmt.Appendf(nil, "%s%d", prefix, i), true, fmt.Appendf(nil, "%sv%d", prefix, i))
	}
	return b
}

// described lists records as "partition key=value id" lines.
func described(recs []*kgo.Record) []string {
	var out []string
	for _, r := range recs {
		line := fmt.Sprintf("%d %s=%s", r.Partition, r.Key, r.Value)
		for _, h := range r.Headers {
			if h.Key == idHeader {
				line += " " + string(h.Value)
			} else {
				line += " " + h.Key + ":" + string(h.Value)
			}
		}
		out = append(out, line)
	}
	return out
}

func newSink(t *testing.T, conn connectors.Connection, arg abi.StreamConn) *sink {
	t.Helper()
	arg.Conn, arg.Topic = "kf", "out"
	s, err := NewSink("flow.out", arg, conn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.(*sink).Close() })
	return s.(*sink)
}

func openSink(t *testing.T, s *sink, part string, resume []byte) *sinkPart {
	t.Helper()
	p, err := s.Open(part, resume)
	if err != nil {
		t.Fatal(err)
	}
	return p.(*sinkPart)
}

// TestSinkStaged produces nothing before an epoch is committed, then the
// items of every epoch up to it, into the partition of the same number.
func TestSinkStaged(t *testing.T) {
	conn := cluster(t, map[string]int32{"out": 2})
	s := newSink(t, conn, abi.StreamConn{})
	if parts, _ := s.Parts(); !slices.Equal(parts, []string{"0", "1"}) {
		t.Fatalf("parts %q", parts)
	}
	p0, p1 := openSink(t, s, "0", nil), openSink(t, s, "1", nil)
	check := func(when string, want ...string) {
		t.Helper()
		if got := described(readTopic(t, conn, "out")); !slices.Equal(got, want) {
			t.Errorf("%s: %q, want %q", when, got, want)
		}
	}
	for _, w := range []struct {
		p     *sinkPart
		epoch uint64
		b     abi.Batch
	}{{p0, 1, keyed("a", 2)}, {p1, 1, keyed("b", 1)}, {p0, 2, keyed("c", 1)}, {p0, 2, keyed("d", 1)}, {p0, 3, keyed("e", 1)}} {
		if err := w.p.WriteEpoch(w.epoch, w.b); err != nil {
			t.Fatal(err)
		}
	}
	check("before a commit")
	if p0.Pending() != 3 || p1.Pending() != 1 {
		t.Errorf("pending %d and %d, want 3 and 1", p0.Pending(), p1.Pending())
	}
	for _, p := range []*sinkPart{p0, p1} {
		if err := p.Committed(2); err != nil {
			t.Fatal(err)
		}
	}
	check("after epoch 2", "0 a0=av0 flow.out/0/1/0", "0 a1=av1 flow.out/0/1/1", "0 c0=cv0 flow.out/0/2/0",
		"0 d0=dv0 flow.out/0/2/1", "1 b0=bv0 flow.out/1/1/0")
	if p0.Pending() != 3 || p1.Pending() != 0 {
		t.Errorf("pending %d and %d, want 3 and 0", p0.Pending(), p1.Pending())
	}
	if err := p0.Write(keyed("x", 1)); err == nil {
		t.Error("Write of a staged sink succeeded")
	}
}

// TestSinkMessages produces messages with their key (else the item's),
// value and headers.
func TestSinkMessages(t *testing.T) {
	conn := cluster(t, map[string]int32{"out": 1})
	p := openSink(t, newSink(t, conn, abi.StreamConn{Format: abi.FormatMessage}), "0", nil)
	var b abi.Batch
	for _, m := range []abi.Message{
		{Key: []byte("own"), Value: []byte("v1"), Headers: []abi.Header{{Name: "h", Value: []byte("x")}}},
		{Value: []byte("v2"), Partition: "ignored/3", Seq: 9},
	} {
		var w abi.Writer
		m.Encode(&w)
		b.Append([]byte("item"), true, w.B)
	}
	if err := p.WriteEpoch(1, b); err != nil {
		t.Fatal(err)
	}
	if err := p.Committed(1); err != nil {
		t.Fatal(err)
	}
	want := []string{"0 own=v1 h:x flow.out/0/1/0", "0 item=v2 flow.out/0/1/1"}
	if got := described(readTopic(t, conn, "out")); !slices.Equal(got, want) {
		t.Errorf("%q, want %q", got, want)
	}
	var bad abi.Batch
	bad.Append(nil, false, []byte("not a message"))
	if err := p.WriteEpoch(2, bad); err == nil || !strings.Contains(err.Error(), "sink partition 0, epoch 2, item 0") {
		t.Errorf("a value that is no message: %v", err)
	}
}

// TestSinkResume reopens a partition from a snapshot holding epochs 1 (3
// items) and 2 (2 items) after a crash that had produced the first done of
// them: the resumed partition produces each of the others once.
func TestSinkResume(t *testing.T) {
	for _, done := range []int{0, 2, 3, 4, 5} {
		t.Run(fmt.Sprint(done, " produced"), func(t *testing.T) {
			conn := cluster(t, map[string]int32{"out": 1})
			s := newSink(t, conn, abi.StreamConn{})
			p := openSink(t, s, "0", nil)
			p.WriteEpoch(1, keyed("a", 3))
			p.WriteEpoch(2, keyed("b", 2))
			snap := p.Snapshot()
			recs, err := p.records(p.mu.kept)
			if err != nil {
				t.Fatal(err)
			}
			produce(t, s.cl, recs[:done]...) // what the crashed run got out

			r := openSink(t, newSink(t, conn, abi.StreamConn{}), "0", snap)
			want := uint64(2)
			if done == 5 {
				want = 0
			}
			if r.Pending() != want {
				t.Errorf("pending %d, want %d", r.Pending(), want)
			}
			if err := r.Committed(2); err != nil {
				t.Fatal(err)
			}
			wantRecs := []string{"0 a0=av0 flow.out/0/1/0", "0 a1=av1 flow.out/0/1/1", "0 a2=av2 flow.out/0/1/2",
				"0 b0=bv0 flow.out/0/2/0", "0 b1=bv1 flow.out/0/2/1"}
			if got := described(readTopic(t, conn, "out")); !slices.Equal(got, wantRecs) {
				t.Errorf("%q, want %q", got, wantRecs)
			}
		})
	}
}

// TestSinkResumeAfterOtherWriter produces the snapshot's items when the
// last record of the partition is not the sink's.
func TestSinkResumeAfterOtherWriter(t *testing.T) {
	conn := cluster(t, map[string]int32{"out": 1})
	s := newSink(t, conn, abi.StreamConn{})
	p := openSink(t, s, "0", nil)
	p.WriteEpoch(4, keyed("a", 1))
	snap := p.Snapshot()
	produce(t, s.cl, &kgo.Record{Topic: "out", Value: []byte("other"),
		Headers: []kgo.RecordHeader{{Key: idHeader, Value: []byte("other.step/0/9/9")}}})
	r := openSink(t, s, "0", snap)
	if err := r.Committed(4); err != nil {
		t.Fatal(err)
	}
	want := []string{"0 =other other.step/0/9/9", "0 a0=av0 flow.out/0/4/0"}
	if got := described(readTopic(t, conn, "out")); !slices.Equal(got, want) {
		t.Errorf("%q, want %q", got, want)
	}
}

// TestParseID reads ids of the sink's own step and partition only.
func TestParseID(t *testing.T) {
	tests := []struct {
		id     string
		epoch  uint64
		index  int
		parsed bool
	}{
		{"flow.out/0/7/3", 7, 3, true},
		{"flow.out/1/7/3", 0, 0, false},
		{"flow.out/0/7", 0, 0, false},
		{"flow.out/0/x/3", 0, 0, false},
		{"flow.out/0/7/-1", 0, 0, false},
		{"", 0, 0, false},
	}
	for _, tt := range tests {
		e, i, ok := parseID(tt.id, "flow.out/0/")
		if e != tt.epoch || i != tt.index || ok != tt.parsed {
			t.Errorf("parseID(%q) = %d, %d, %v; want %d, %d, %v", tt.id, e, i, ok, tt.epoch, tt.index, tt.parsed)
		}
	}
}
