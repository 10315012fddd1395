package bx

import (
	"fmt"
	"testing"
	"time"

	"github.com/bxwasm/bxwasm/guest-sdk/go/abi"
)

// TestStreamConnectors: what each constructor asks of the host.
func TestStreamConnectors(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)
	for _, tc := range []struct {
		conn interface{ conn() (abi.ConnKind, string) }
		kind abi.ConnKind
		arg  string
	}{
		{JetStreamSource("e", "S", StreamOptions{}), abi.ConnJetStream, `{"conn":"e","stream":"S"}`},
		{JetStreamSource("e", "S", StreamOptions{PartitionBy: "s.*", Start: StartNew, Tail: true, Batch: 5}), abi.ConnJetStream,
			`{"conn":"e","stream":"S","partition_by":"s.*","start":"new","tail":true,"batch":5}`},
		{JetStreamPayloads("e", "S", StreamOptions{Subjects: []string{"a"}, Start: StartAt(at)}), abi.ConnJetStream,
			`{"conn":"e","stream":"S","subjects":["a"],"start":"time","start_time":"2026-01-02T03:04:05.000000006Z","format":"payload"}`},
		{JetStreamSink("e", "out", SinkOptions{Partitions: 4}), abi.ConnJetStream, `{"conn":"e","subject":"out","partitions":4}`},
		{JetStreamMessageSink("e", "", SinkOptions{}), abi.ConnJetStream, `{"conn":"e","format":"message"}`},
		{NATSSource("e", "a", "b"), abi.ConnNATS, `{"conn":"e","subjects":["a","b"]}`},
		{NATSSink("e", "x", SinkOptions{}), abi.ConnNATS, `{"conn":"e","subject":"x"}`},
		{KafkaSource("k", []string{"t"}, StreamOptions{}), abi.ConnKafka, `{"conn":"k","topics":["t"]}`},
		{KafkaSink("k", "t"), abi.ConnKafka, `{"conn":"k","topic":"t"}`},
		{KafkaMessageSink("k", "t"), abi.ConnKafka, `{"conn":"k","topic":"t","format":"message"}`},
	} {
		kind, arg := tc.conn.conn()
		if kind != tc.kind || arg != tc.arg {
			t.Errorf("got %v %s\nwant %v %s", kind, arg, tc.kind, tc.arg)
		}
	}
}

// TestMessageCodec: a Message goes through its stream's codec and back,
// and what the host sends decodes.
func TestMessageCodec(t *testing.T) {
	m := Message{Subject: "s", Key: []byte("k"), Value: []byte("v"), Headers: []abi.Header{{Name: "h", Value: []byte("1")}},
		Partition: "p", Seq: 7, Time: time.Unix(0, 1234)}
	c := newItemCodec[Message]()
	var b abi.Batch
	if err := c.appendItem(&b, &m); err != nil {
		t.Fatal(err)
	}
	got, err := c.decodeSlice(b)
	if err != nil || len(got) != 1 {
		t.Fatalf("%v %v", got, err)
	}
	if fmt.Sprint(got[0]) != fmt.Sprint(m) || string(got[0].Header("h")) != "1" || got[0].Header("x") != nil {
		t.Errorf("got %+v, want %+v", got[0], m)
	}
	var bad Message
	if err := bad.UnmarshalBinary([]byte{1}); err == nil {
		t.Error("a cut message decoded")
	}
}
