package bx

import (
	"time"

	"github.com/bxwasm/bxwasm/guest-sdk/go/abi"
)

// Message is a message of a stream connector: read by JetStreamSource,
// NATSSource or KafkaSource, or published by a message sink. Value is the
// payload; Key is a Kafka record's key; Partition and Seq say where a
// source read it (the subject filter or "topic/partition", and the
// JetStream stream sequence or Kafka offset; 0 for core NATS); Time is when
// the server stored it.
type Message struct {
	Subject   string
	Key       []byte
	Value     []byte
	Headers   []abi.Header
	Partition string
	Seq       uint64
	Time      time.Time
}

// MarshalBinary encodes the message as the host reads it (abi.Message).
func (m Message) MarshalBinary() ([]byte, error) {
	am := abi.Message{Subject: m.Subject, Key: m.Key, Value: m.Value, Headers: m.Headers,
		Partition: m.Partition, Seq: m.Seq}
	if !m.Time.IsZero() {
		am.Time = m.Time.UnixNano()
	}
	var w abi.Writer
	am.Encode(&w)
	return w.B, nil
}

// UnmarshalBinary decodes a message the host sent (abi.Message).
func (m *Message) UnmarshalBinary(b []byte) error {
	am, err := abi.DecodeMessage(b)
	if err != nil {
		return err
	}
	*m = Message{Subject: am.Subject, Key: clone(am.Key), Value: clone(am.Value), Partition: am.Partition, Seq: am.Seq}
	for _, h := range am.Headers {
		m.Headers = append(m.Headers, abi.Header{Name: h.Name, Value: clone(h.Value)})
	}
	if am.Time != 0 {
		m.Time = time.Unix(0, am.Time)
	}
	return nil
}

// Header returns the first value of the header name, or nil.
func (m *Message) Header(name string) []byte {
	for _, h := range m.Headers {
		if h.Name == name {
			return h.Value
		}
	}
	return nil
}

func clone(b []byte) []byte {
	if b == nil {
		return nil
	}
	return append([]byte{}, b...)
}

// Start is where a stream source without resume state begins.
type Start struct {
	kind string
	at   time.Time
}

var (
	// StartFirst reads a stream from its first message (the default).
	StartFirst = Start{kind: "first"}
	// StartNew reads only what arrives after the run starts.
	StartNew = Start{kind: "new"}
)

// StartAt reads from the first message stored at or after t.
func StartAt(t time.Time) Start { return Start{kind: "time", at: t} }

// StreamOptions tune JetStreamSource and KafkaSource.
type StreamOptions struct {
	// Subjects are a JetStream source's partitions, one subject filter
	// each (default: the stream's subjects).
	Subjects []string
	// PartitionBy makes a JetStream source's partitions the subjects of
	// the stream that match this pattern when the run starts.
	PartitionBy string
	// Start is where to begin without resume state (default StartFirst).
	Start Start
	// Tail keeps waiting for new messages, so the input never ends; without
	// it the source ends at the last message there when the run started.
	Tail bool
	// Batch is the most messages fetched at once (default 1000).
	Batch int
}

// SinkOptions tune the stream sinks.
type SinkOptions struct {
	// Partitions is how many partitions a JetStream or NATS sink has
	// (default 1); items go to one by their key, each publishes in order.
	Partitions int
}

// hostStream is a stream connector the host implements.
type hostStream[T any] struct {
	kind abi.ConnKind
	arg  abi.StreamConn
}

func (s hostStream[T]) conn() (abi.ConnKind, string)          { return s.kind, s.arg.Encode() }
func (s hostStream[T]) runtime(*step, *itemCodec[T]) *partsRT { return nil }

func sourceArg(conn string, o StreamOptions, format string) abi.StreamConn {
	a := abi.StreamConn{Conn: conn, Subjects: o.Subjects, PartitionBy: o.PartitionBy, Start: o.Start.kind,
		Tail: o.Tail, Batch: o.Batch, Format: format}
	if o.Start.kind == "time" {
		a.StartTime = o.Start.at.UTC().Format(time.RFC3339Nano)
	}
	if a.Start == "first" {
		a.Start = ""
	}
	return a
}

// JetStreamSource reads the NATS JetStream stream on connection conn (a
// name the operator binds with --connection conn=nats://...). Each
// partition (a subject filter) is read by one worker; its stream sequence
// is snapshotted every epoch, so a resume continues right after the last
// message the flow committed: exactly once into the dataflow.
func JetStreamSource(conn, stream string, o StreamOptions) Source[Message] {
	a := sourceArg(conn, o, "")
	a.Stream = stream
	return hostStream[Message]{abi.ConnJetStream, a}
}

// JetStreamPayloads is JetStreamSource emitting only each message's data.
func JetStreamPayloads(conn, stream string, o StreamOptions) Source[string] {
	a := sourceArg(conn, o, abi.FormatPayload)
	a.Stream = stream
	return hostStream[string]{abi.ConnJetStream, a}
}

// JetStreamSink publishes each value into the JetStream stream that holds
// subject, once the epoch it belongs to is committed, with a Nats-Msg-Id
// that a resumed run reuses: exactly once when the stream's duplicate
// window is longer than the longest outage a resume follows. Without a
// recovery store it publishes right away.
func JetStreamSink(conn, subject string, o SinkOptions) Sink[KV[string]] {
	return hostStream[KV[string]]{abi.ConnJetStream, abi.StreamConn{Conn: conn, Subject: subject, Partitions: o.Partitions}}
}

// JetStreamMessageSink is JetStreamSink for whole messages: each one's
// Subject (subject when empty), Value and Headers are published.
func JetStreamMessageSink(conn, subject string, o SinkOptions) Sink[KV[Message]] {
	return hostStream[KV[Message]]{abi.ConnJetStream, abi.StreamConn{Conn: conn, Subject: subject,
		Partitions: o.Partitions, Format: abi.FormatMessage}}
}

// NATSSource subscribes to core NATS subjects, one partition (and one
// worker) per subject. Core NATS keeps nothing: what arrives while the flow
// is down is lost, so it is at most once. It never ends.
func NATSSource(conn string, subjects ...string) Source[Message] {
	return hostStream[Message]{abi.ConnNATS, abi.StreamConn{Conn: conn, Subjects: subjects}}
}

// NATSSink publishes each value to a core NATS subject, right away; what
// a resume replays is published again (at least once), and nothing is
// kept for a subscriber that is not there.
func NATSSink(conn, subject string, o SinkOptions) Sink[KV[string]] {
	return hostStream[KV[string]]{abi.ConnNATS, abi.StreamConn{Conn: conn, Subject: subject, Partitions: o.Partitions}}
}

// KafkaSource reads Kafka topics on connection conn (bound with
// --connection conn=kafka://HOST:PORT). Each topic partition is a source
// partition read by one worker; offsets are snapshotted every epoch, so a
// resume continues right after the last committed record: exactly once into
// the dataflow, without consumer groups.
func KafkaSource(conn string, topics []string, o StreamOptions) Source[Message] {
	a := sourceArg(conn, o, "")
	a.Topics = topics
	return hostStream[Message]{abi.ConnKafka, a}
}

// KafkaSink produces each value into topic with the item's key as the
// record key. Each partition of the topic is a partition of the sink (an
// item goes to the one its key hashes to) and gets an epoch's records once
// the epoch is committed, under ids a resumed run checks, so nothing is
// produced twice.
func KafkaSink(conn, topic string) Sink[KV[string]] {
	return hostStream[KV[string]]{abi.ConnKafka, abi.StreamConn{Conn: conn, Topic: topic}}
}

// KafkaMessageSink is KafkaSink for whole messages: each one's Key (the
// item's key when empty), Value and Headers are produced.
func KafkaMessageSink(conn, topic string) Sink[KV[Message]] {
	return hostStream[KV[Message]]{abi.ConnKafka, abi.StreamConn{Conn: conn, Topic: topic, Format: abi.FormatMessage}}
}
