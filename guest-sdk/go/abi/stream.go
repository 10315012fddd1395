package abi

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// StreamConn is the Arg of a ConnJetStream, ConnNATS or ConnKafka step,
// encoded as a JSON object. Conn names a connection the operator binds
// with --connection NAME=URL; the module never sees the server's address.
// Fields a connector does not use must be left out.
type StreamConn struct {
	// Conn is the connection's name (required).
	Conn string `json:"conn"`
	// Stream is the JetStream stream a source reads (required there).
	Stream string `json:"stream,omitempty"`
	// Subjects are, for a JetStream source, the partitions: one subject
	// filter each (default: the stream's own subjects); for a NATS source,
	// the subjects it subscribes to, one partition each (required).
	Subjects []string `json:"subjects,omitempty"`
	// PartitionBy makes a JetStream source's partitions the subjects of
	// the stream that match this pattern when the run starts, one each.
	PartitionBy string `json:"partition_by,omitempty"`
	// Topics are the topics a Kafka source reads (required there); every
	// partition of each is a partition of the source.
	Topics []string `json:"topics,omitempty"`
	// Subject is where a JetStream or NATS sink publishes (required unless
	// Format is "message" and every message names its subject).
	Subject string `json:"subject,omitempty"`
	// Topic is the topic a Kafka sink produces into (required there).
	Topic string `json:"topic,omitempty"`
	// Start is where a source without resume state begins: "first"
	// (default), "new" (only what arrives after the start) or "time"
	// (StartTime).
	Start string `json:"start,omitempty"`
	// StartTime is an RFC 3339 time, for Start "time".
	StartTime string `json:"start_time,omitempty"`
	// Tail keeps a source waiting for new messages forever; without it a
	// JetStream or Kafka source ends at the last message that was there
	// when the run started.
	Tail bool `json:"tail,omitempty"`
	// Batch is the most messages a source fetches at once (default 1000).
	Batch int `json:"batch,omitempty"`
	// Format is "message" (default for sources: each item's value is an
	// encoded Message) or "payload" (the item's value is the message's
	// data). For sinks the default is "payload": the item's value is
	// published as it is (and its key is a Kafka record's key); "message"
	// takes an encoded Message per item.
	Format string `json:"format,omitempty"`
	// Partitions is how many partitions a JetStream or NATS sink has
	// (default 1): items are routed to one by their key, and each
	// partition publishes in order.
	Partitions int `json:"partitions,omitempty"`
}

// Formats of StreamConn.Format.
const (
	FormatMessage = "message"
	FormatPayload = "payload"
)

// Encode returns the StreamConn as a step's Arg.
func (c StreamConn) Encode() string {
	b, err := json.Marshal(c)
	if err != nil {
		panic(err) // a struct of strings, ints and bools always encodes
	}
	return string(b)
}

// DecodeStreamConn reads a step's Arg, refusing unknown fields.
func DecodeStreamConn(arg string) (StreamConn, error) {
	var c StreamConn
	d := json.NewDecoder(bytes.NewReader([]byte(arg)))
	d.DisallowUnknownFields()
	if err := d.Decode(&c); err != nil {
		return c, fmt.Errorf("abi: connector argument %q is not a stream connector's JSON object: %w", arg, err)
	}
	if d.More() {
		return c, fmt.Errorf("abi: connector argument %q has more than one JSON object", arg)
	}
	if c.Conn == "" {
		return c, fmt.Errorf("abi: connector argument %q names no connection (\"conn\")", arg)
	}
	return c, nil
}

// Header is one header of a Message; a name may repeat.
type Header struct {
	Name  string
	Value []byte
}

// Message is a message a stream source emits, or a stream sink publishes,
// when its format is "message":
//
//	string subject | bytes key | bytes value | uvarint n | (string name, bytes value) × n |
//	string partition | uvarint seq | varint time
//
// Subject is the NATS subject or Kafka topic; Key the Kafka record key
// (empty for NATS); Partition the source partition it was read from, Seq
// its position there (JetStream stream sequence, Kafka offset, 0 for core
// NATS) and Time when the server stored it, in Unix nanoseconds. A sink
// ignores Partition, Seq and Time; an empty Subject publishes to the
// step's own subject.
type Message struct {
	Subject   string
	Key       []byte
	Value     []byte
	Headers   []Header
	Partition string
	Seq       uint64
	Time      int64
}

// Encode appends the message.
func (m *Message) Encode(w *Writer) {
	w.String(m.Subject)
	w.Bytes(m.Key)
	w.Bytes(m.Value)
	w.Uvarint(uint64(len(m.Headers)))
	for _, h := range m.Headers {
		w.String(h.Name)
		w.Bytes(h.Value)
	}
	w.String(m.Partition)
	w.Uvarint(m.Seq)
	w.Varint(m.Time)
}

// DecodeMessage reads a message that fills b; its byte fields alias b.
func DecodeMessage(b []byte) (Message, error) {
	r := NewReader(b)
	var m Message
	m.Subject = r.String()
	m.Key = r.Bytes()
	m.Value = r.Bytes()
	n := r.Count(2)
	for i := 0; i < n && r.Err() == nil; i++ {
		m.Headers = append(m.Headers, Header{Name: r.String(), Value: r.Bytes()})
	}
	m.Partition = r.String()
	m.Seq = r.Uvarint()
	m.Time = r.Varint()
	if err := r.End(); err != nil {
		return Message{}, fmt.Errorf("abi: malformed message: %w", err)
	}
	return m, nil
}
