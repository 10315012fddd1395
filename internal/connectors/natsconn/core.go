package natsconn

import (
	"errors"
	"fmt"
	"slices"

	"github.com/bxwasm/bxwasm/guest-sdk/go/abi"
	"github.com/bxwasm/bxwasm/internal/connectors"
	"github.com/nats-io/nats.go"
)

// coreQueue is how many messages a core NATS partition holds for its
// worker; past that the server drops messages for it (a slow consumer),
// as core NATS does.
const coreQueue = 1 << 16

// coreSource subscribes to core NATS subjects, one partition each.
type coreSource struct {
	step string
	arg  abi.StreamConn
	nc   *nats.Conn
}

// NewCoreSource connects to conn.
func NewCoreSource(step string, arg abi.StreamConn, conn connectors.Connection) (connectors.PartitionedSource, error) {
	if err := checkArg("NATS source", arg, "subjects"); err != nil {
		return nil, err
	}
	if len(arg.Subjects) == 0 {
		return nil, errors.New("natsconn: a NATS source needs at least one subject")
	}
	nc, err := dial(step, conn)
	if err != nil {
		return nil, err
	}
	return &coreSource{step: step, arg: arg, nc: nc}, nil
}

// Parts lists the subjects.
func (s *coreSource) Parts() ([]string, error) { return s.arg.Subjects, nil }

// Close closes the connection.
func (s *coreSource) Close() error {
	s.nc.Close()
	return nil
}

// Open subscribes to the partition's subject. There is no position to
// resume from: core NATS keeps nothing.
func (s *coreSource) Open(part string, _ []byte) (connectors.SourcePart, error) {
	if !slices.Contains(s.arg.Subjects, part) {
		return nil, fmt.Errorf("%w %q", connectors.ErrUnknownPart, part)
	}
	ch := make(chan *nats.Msg, coreQueue)
	sub, err := s.nc.ChanSubscribe(part, ch)
	if err != nil {
		return nil, fmt.Errorf("natsconn: subscribing to %q: %w", part, err)
	}
	if err := s.nc.Flush(); err != nil {
		sub.Unsubscribe()
		return nil, fmt.Errorf("natsconn: subscribing to %q: %w", part, err)
	}
	return &corePart{name: part, format: s.arg.Format, sub: sub, ch: ch}, nil
}

// corePart is one subscribed subject.
type corePart struct {
	name   string
	format string
	sub    *nats.Subscription
	ch     chan *nats.Msg
	w      abi.Writer
	msg    abi.Message
}

// Next appends the messages received so far, up to max. It never ends.
func (p *corePart) Next(b *abi.Batch, max int) (bool, error) {
	for n := 0; n < max; n++ {
		select {
		case m := <-p.ch:
			p.emit(b, m)
		default:
			return false, nil
		}
	}
	return false, nil
}

func (p *corePart) emit(b *abi.Batch, m *nats.Msg) {
	if p.format == abi.FormatPayload {
		b.Append(nil, false, m.Data)
		return
	}
	p.msg = abi.Message{Subject: m.Subject, Value: m.Data, Headers: headers(m.Header, p.msg.Headers[:0]), Partition: p.name}
	p.w.Reset()
	p.msg.Encode(&p.w)
	b.Append(nil, false, p.w.B)
}

// Snapshot is nil: a core NATS subject has no position.
func (p *corePart) Snapshot() []byte { return nil }

// Close unsubscribes.
func (p *corePart) Close() error { return p.sub.Unsubscribe() }

// coreSink publishes to a core NATS subject.
type coreSink struct {
	arg   abi.StreamConn
	nc    *nats.Conn
	parts []string
}

// NewCoreSink connects to conn.
func NewCoreSink(step string, arg abi.StreamConn, conn connectors.Connection) (connectors.PartitionedSink, error) {
	parts, nc, err := dialSink("NATS sink", step, arg, conn)
	if err != nil {
		return nil, err
	}
	return &coreSink{arg: arg, nc: nc, parts: parts}, nil
}

// Parts lists the partitions.
func (s *coreSink) Parts() ([]string, error) { return s.parts, nil }

// Close flushes and closes the connection.
func (s *coreSink) Close() error {
	err := s.nc.Flush()
	s.nc.Close()
	return err
}

// Open opens a partition; it has no state.
func (s *coreSink) Open(string, []byte) (connectors.SinkPart, error) {
	return &coreSinkPart{sink: s}, nil
}

// coreSinkPart publishes right away.
type coreSinkPart struct{ sink *coreSink }

// Write publishes every item and flushes, so the server has them when the
// epoch closes.
func (p *coreSinkPart) Write(b abi.Batch) error {
	it := b.Iter()
	var item abi.Item
	for it.Next(&item) {
		m, err := toMessage(p.sink.arg, item.Value)
		if err != nil {
			return err
		}
		if err := p.sink.nc.PublishMsg(m); err != nil {
			return fmt.Errorf("natsconn: publishing to %q: %w", m.Subject, err)
		}
	}
	return p.sink.nc.Flush()
}

// Snapshot is nil: nothing to resume.
func (p *coreSinkPart) Snapshot() []byte { return nil }

// Close does nothing; the sink flushes when it closes.
func (p *coreSinkPart) Close() error { return nil }
