package natsconn

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/bxwasm/bxwasm/guest-sdk/go/abi"
	"github.com/bxwasm/bxwasm/internal/connectors"
	"github.com/bxwasm/bxwasm/internal/testutil"
	"github.com/nats-io/nats.go/jetstream"
)

// TestParseAck reads the metadata of acknowledgement subjects of both
// forms and refuses what is not one.
func TestParseAck(t *testing.T) {
	cases := []struct {
		reply string
		want  ackMeta
		ok    bool
	}{
		{"$JS.ACK.S.C.1.42.7.1700000000000000001.9", ackMeta{seq: 42, time: 1700000000000000001, pending: 9}, true},
		{"$JS.ACK._.HASH.S.C.1.42.7.1700000000000000001.9", ackMeta{seq: 42, time: 1700000000000000001, pending: 9}, true},
		{"$JS.ACK.dom.HASH.S.C.2.5.3.12.0.rand", ackMeta{seq: 5, time: 12, pending: 0}, true},
		{"$JS.ACK.dom.HASH.S.C.2.5.3.12.0.rand.more", ackMeta{seq: 5, time: 12, pending: 0}, true},
		{"$JS.ACK.S.C.1.42.7.17", ackMeta{}, false},     // 8 tokens
		{"$JS.ACK.x.S.C.1.42.7.17.9", ackMeta{}, false}, // 10 tokens
		{"$JS.NAK.S.C.1.42.7.1700000000000000001.9", ackMeta{}, false},
		{"$JS.ACK.S.C.1.4x2.7.1700000000000000001.9", ackMeta{}, false},
		{"$JS.ACK.S.C.1..7.1700000000000000001.9", ackMeta{}, false},
		{"$JS.ACK.S.C.1.42.7.99999999999999999999.9", ackMeta{}, false},
		{"", ackMeta{}, false},
	}
	for _, tc := range cases {
		got, err := parseAck(tc.reply)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("parseAck(%q) = %+v, %v; want %+v, ok %v", tc.reply, got, err, tc.want, tc.ok)
		}
	}
}

// publishN makes a stream S of n messages "0".."n-1" on subject s.0.
func publishN(t *testing.T, n int) (string, jetstream.JetStream) {
	t.Helper()
	conn, _, js := server(t)
	url := conn.URL
	msgs := make([][2]string, n)
	for i := range msgs {
		msgs[i] = [2]string{"s.0", strconv.Itoa(i)}
	}
	testutil.Publish(t, js, msgs)
	return url, js
}

// TestParseAckServer checks parseAck against jetstream's own Metadata on
// the messages of a real server.
func TestParseAckServer(t *testing.T) {
	_, js := publishN(t, 50)
	c, err := js.OrderedConsumer(context.Background(), "S", jetstream.OrderedConsumerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	batch, err := c.Fetch(50, jetstream.FetchMaxWait(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for m := range batch.Messages() {
		meta, err := m.Metadata()
		if err != nil {
			t.Fatal(err)
		}
		got, err := parseAck(m.Reply())
		want := ackMeta{seq: meta.Sequence.Stream, pending: meta.NumPending, time: meta.Timestamp.UnixNano()}
		if err != nil || got != want {
			t.Fatalf("parseAck(%q) = %+v, %v; Metadata says %+v", m.Reply(), got, err, want)
		}
		n++
	}
	if n != 50 {
		t.Fatalf("fetched %d messages, want 50 (%v)", n, batch.Error())
	}
}

// TestSourceBackpressure opens a partition and takes nothing for a while:
// the fetcher holds at most a batch; then every message comes out once, in
// order, with its sequence and time, and the partition ends.
func TestSourceBackpressure(t *testing.T) {
	const n, batch = 3000, 100
	start := time.Now()
	url, _ := publishN(t, n)
	src, err := NewJetStreamSource("inp", abi.StreamConn{Stream: "S", Subjects: []string{"s.0"}, Batch: batch}, connectors.Connection{Name: "c", URL: url})
	if err != nil {
		t.Fatal(err)
	}
	defer src.(*jsSource).Close()
	part, err := src.Open("s.0", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer part.Close()
	f := part.(*jsPart).ahead
	for deadline := time.Now().Add(10 * time.Second); buffered(f) < batch; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the fetcher buffered %d messages in 10 s, want %d", buffered(f), batch)
		}
	}
	time.Sleep(200 * time.Millisecond) // time to overrun the bound, if it could
	if got := buffered(f); got != batch {
		t.Fatalf("the fetcher buffered %d messages while the worker took none, want %d", got, batch)
	}
	var seqs []uint64
	for deadline := time.Now().Add(30 * time.Second); ; {
		var b abi.Batch
		done, err := part.Next(&b, 64)
		if err != nil {
			t.Fatal(err)
		}
		seqs = append(seqs, messages(t, b, start)...)
		if done {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("read %d of %d messages in 30 s", len(seqs), n)
		}
	}
	if len(seqs) != n {
		t.Fatalf("read %d messages, want %d", len(seqs), n)
	}
	for i, s := range seqs {
		if s != uint64(i+1) {
			t.Fatalf("message %d has sequence %d, want %d", i, s, i+1)
		}
	}
}

// buffered is how many messages f holds that its worker has not taken.
func buffered(f *fetcher) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.buf)
}

// messages decodes a batch of messages, checks each one's value and time,
// and returns their sequences.
func messages(t *testing.T, b abi.Batch, after time.Time) []uint64 {
	t.Helper()
	var seqs []uint64
	it := b.Iter()
	var item abi.Item
	for it.Next(&item) {
		m, err := abi.DecodeMessage(item.Value)
		if err != nil {
			t.Fatal(err)
		}
		if string(m.Value) != strconv.FormatUint(m.Seq-1, 10) || m.Subject != "s.0" || m.Partition != "s.0" {
			t.Fatalf("message %d is %q on %q (partition %q), want %q on s.0", m.Seq, m.Value, m.Subject, m.Partition, strconv.FormatUint(m.Seq-1, 10))
		}
		if tm := time.Unix(0, m.Time); tm.Before(after.Add(-time.Second)) || tm.After(time.Now().Add(time.Second)) {
			t.Fatalf("message %d was stored at %s, not during the test (from %s)", m.Seq, tm, after)
		}
		seqs = append(seqs, m.Seq)
	}
	return seqs
}
