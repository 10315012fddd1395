package natsconn

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/bxwasm/bxwasm/guest-sdk/go/abi"
	"github.com/bxwasm/bxwasm/internal/connectors"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// publishChunk is how many messages a sink has in flight before it waits
// for their acknowledgements.
const publishChunk = 1000

// jsSink publishes into a JetStream stream; see the package doc.
type jsSink struct {
	step  string
	arg   abi.StreamConn
	nc    *nats.Conn
	js    jetstream.JetStream
	parts []string
}

// NewJetStreamSink connects to conn and checks that a stream holds the
// sink's subject.
func NewJetStreamSink(step string, arg abi.StreamConn, conn connectors.Connection) (connectors.PartitionedSink, error) {
	parts, nc, err := dialSink("JetStream sink", step, arg, conn)
	if err != nil {
		return nil, err
	}
	js, err := jetstream.New(nc, jetstream.WithPublishAsyncMaxPending(2*publishChunk))
	if err == nil && arg.Subject != "" {
		ctx, cancel := apiContext()
		_, err = js.StreamNameBySubject(ctx, arg.Subject)
		cancel()
		if err != nil {
			err = fmt.Errorf("natsconn: no stream on connection %q holds subject %q (%w); create one, or publish with NATSSink", conn.Name, arg.Subject, err)
		}
	}
	if err != nil {
		nc.Close()
		return nil, err
	}
	return &jsSink{step: step, arg: arg, nc: nc, js: js, parts: parts}, nil
}

// dialSink checks a sink's argument (what names the sink), names its
// partitions and connects.
func dialSink(what, step string, arg abi.StreamConn, conn connectors.Connection) ([]string, *nats.Conn, error) {
	if err := checkArg(what, arg, "subject", "partitions"); err != nil {
		return nil, nil, err
	}
	if arg.Subject == "" && arg.Format != abi.FormatMessage {
		return nil, nil, fmt.Errorf("natsconn: a %s needs a subject", what)
	}
	parts, err := sinkParts(arg)
	if err != nil {
		return nil, nil, err
	}
	nc, err := dial(step, conn)
	return parts, nc, err
}

// sinkParts names a sink's partitions "0" to "n-1".
func sinkParts(arg abi.StreamConn) ([]string, error) {
	n := arg.Partitions
	if n == 0 {
		n = 1
	}
	if n < 0 || n > 1024 {
		return nil, fmt.Errorf("natsconn: %d sink partitions; use 1 to 1024", arg.Partitions)
	}
	parts := make([]string, n)
	for i := range parts {
		parts[i] = strconv.Itoa(i)
	}
	return parts, nil
}

// Parts lists the partitions.
func (s *jsSink) Parts() ([]string, error) { return s.parts, nil }

// Close closes the connection, after the engine is done with the parts.
func (s *jsSink) Close() error {
	s.nc.Close()
	return nil
}

// Open opens a partition with what its snapshot held still to publish.
func (s *jsSink) Open(part string, resume []byte) (connectors.SinkPart, error) {
	st, err := decodeStage(part, resume)
	if err != nil {
		return nil, err
	}
	return &jsSinkPart{sink: s, id: s.step + "/" + part + "/", stage: st}, nil
}

// jsSinkPart is a staged partition of a JetStream sink.
type jsSinkPart struct {
	sink  *jsSink
	id    string // Nats-Msg-Id prefix
	stage *stage
}

// Write is WriteEpoch without an epoch: the engine always calls WriteEpoch.
func (p *jsSinkPart) Write(abi.Batch) error {
	return errors.New("natsconn: a JetStream sink partition needs the epoch of what it writes")
}

// WriteEpoch keeps the items of epoch.
func (p *jsSinkPart) WriteEpoch(epoch uint64, b abi.Batch) error {
	p.stage.add(epoch, b)
	return nil
}

// Committed publishes every epoch up to epoch, then forgets it.
func (p *jsSinkPart) Committed(epoch uint64) error {
	eps := p.stage.upTo(epoch)
	for _, e := range eps {
		if err := p.publish(e); err != nil {
			return err
		}
	}
	if len(eps) > 0 {
		p.stage.drop(len(eps))
	}
	return nil
}

// publish sends one epoch's items with their ids and waits for the stream
// to have them all.
func (p *jsSinkPart) publish(e stagedEpoch) error {
	prefix := p.id + strconv.FormatUint(e.epoch, 10) + "/"
	var acks []jetstream.PubAckFuture
	for i, v := range e.values {
		m, err := p.message(v)
		if err != nil {
			return err
		}
		f, err := p.sink.js.PublishMsgAsync(m, jetstream.WithMsgID(prefix+strconv.Itoa(e.first+i)))
		if err != nil {
			return fmt.Errorf("natsconn: publishing to %q: %w", m.Subject, err)
		}
		acks = append(acks, f)
		if len(acks) == publishChunk || i == len(e.values)-1 {
			if err := waitAcks(acks); err != nil {
				return err
			}
			acks = acks[:0]
		}
	}
	return nil
}

// message builds the NATS message of an item's value.
func (p *jsSinkPart) message(v []byte) (*nats.Msg, error) { return toMessage(p.sink.arg, v) }

// toMessage builds the NATS message of an item's value: the value itself
// for the sink's subject, or a decoded abi.Message in Format "message".
// The data aliases v.
func toMessage(arg abi.StreamConn, v []byte) (*nats.Msg, error) {
	if arg.Format != abi.FormatMessage {
		return &nats.Msg{Subject: arg.Subject, Data: v}, nil
	}
	am, err := abi.DecodeMessage(v)
	if err != nil {
		return nil, fmt.Errorf("natsconn: an item for a message sink is not an encoded message: %w", err)
	}
	m := &nats.Msg{Subject: am.Subject, Data: am.Value}
	if m.Subject == "" {
		m.Subject = arg.Subject
	}
	if m.Subject == "" {
		return nil, errors.New("natsconn: a message names no subject and the sink has none")
	}
	if len(am.Headers) > 0 {
		m.Header = nats.Header{}
		for _, h := range am.Headers {
			m.Header.Add(h.Name, string(h.Value))
		}
	}
	return m, nil
}

// waitAcks waits for every acknowledgement; a duplicate is one the stream
// already had, which is what a resume expects.
func waitAcks(acks []jetstream.PubAckFuture) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*dialTimeout)
	defer cancel()
	for _, f := range acks {
		select {
		case <-f.Ok():
		case err := <-f.Err():
			return fmt.Errorf("natsconn: publishing to %q: %w", f.Msg().Subject, err)
		case <-ctx.Done():
			return fmt.Errorf("natsconn: publishing to %q: no acknowledgement: %w", f.Msg().Subject, ctx.Err())
		}
	}
	return nil
}

// Pending is the latest epoch not yet published.
func (p *jsSinkPart) Pending() uint64 { return p.stage.pending() }

// Snapshot is what is not yet published.
func (p *jsSinkPart) Snapshot() []byte { return p.stage.encode() }

// Close does nothing: the sink's connection closes after the run.
func (p *jsSinkPart) Close() error { return nil }
