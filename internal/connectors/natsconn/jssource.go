package natsconn

import (
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/bxwasm/bxwasm/guest-sdk/go/abi"
	"github.com/bxwasm/bxwasm/internal/connectors"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// defaultBatch is how many messages a partition fetches at once.
const defaultBatch = 1000

// jsSource reads a JetStream stream, one partition per subject filter.
type jsSource struct {
	step   string
	arg    abi.StreamConn
	nc     *nats.Conn
	js     jetstream.JetStream
	parts  []string
	bounds map[string]uint64 // without Tail: the last sequence of each partition
	start  jetstream.OrderedConsumerConfig
}

// NewJetStreamSource connects to conn and checks the stream, and lists its
// partitions.
func NewJetStreamSource(step string, arg abi.StreamConn, conn connectors.Connection) (connectors.PartitionedSource, error) {
	if err := checkArg("JetStream source", arg, "stream", "subjects", "partition_by", "start", "start_time", "tail", "batch"); err != nil {
		return nil, err
	}
	switch {
	case arg.Stream == "":
		return nil, errors.New("natsconn: a JetStream source needs a stream")
	case len(arg.Subjects) > 0 && arg.PartitionBy != "":
		return nil, errors.New("natsconn: a JetStream source takes subjects or partition_by, not both")
	}
	start, err := startConfig(arg)
	if err != nil {
		return nil, err
	}
	nc, err := dial(step, conn)
	if err != nil {
		return nil, err
	}
	s := &jsSource{step: step, arg: arg, nc: nc, start: start}
	if err := s.inspect(conn); err != nil {
		nc.Close()
		return nil, err
	}
	return s, nil
}

// startConfig is where partitions without resume state begin.
func startConfig(arg abi.StreamConn) (jetstream.OrderedConsumerConfig, error) {
	var c jetstream.OrderedConsumerConfig
	switch arg.Start {
	case "", "first":
		c.DeliverPolicy = jetstream.DeliverAllPolicy
	case "new":
		c.DeliverPolicy = jetstream.DeliverNewPolicy
	case "time":
		t, err := time.Parse(time.RFC3339Nano, arg.StartTime)
		if err != nil {
			return c, fmt.Errorf("natsconn: start time %q is not an RFC 3339 time", arg.StartTime)
		}
		c.DeliverPolicy, c.OptStartTime = jetstream.DeliverByStartTimePolicy, &t
	default:
		return c, fmt.Errorf("natsconn: start %q is not first, new or time", arg.Start)
	}
	return c, nil
}

// inspect checks that the stream exists and finds the partitions and, for
// a bounded source, where each ends.
func (s *jsSource) inspect(conn connectors.Connection) error {
	js, err := jetstream.New(s.nc)
	if err != nil {
		return err
	}
	s.js = js
	ctx, cancel := apiContext()
	defer cancel()
	stream, err := js.Stream(ctx, s.arg.Stream)
	if err != nil {
		return fmt.Errorf("natsconn: stream %q on connection %q: %w", s.arg.Stream, conn.Name, err)
	}
	if s.parts, err = s.partitions(stream); err != nil {
		return err
	}
	if s.start.DeliverPolicy == jetstream.DeliverNewPolicy {
		// "New" is new as of now, for every partition alike, even if a
		// worker opens its partition later.
		info, err := stream.Info(ctx)
		if err != nil {
			return fmt.Errorf("natsconn: stream %q: %w", s.arg.Stream, err)
		}
		s.start.DeliverPolicy, s.start.OptStartSeq = jetstream.DeliverByStartSequencePolicy, info.State.LastSeq+1
	}
	if !s.arg.Tail {
		return s.findBounds(stream)
	}
	return nil
}

// partitions are the declared subjects, the stream's subjects matching
// PartitionBy, or the stream's own subjects.
func (s *jsSource) partitions(stream jetstream.Stream) ([]string, error) {
	switch {
	case len(s.arg.Subjects) > 0:
		return s.arg.Subjects, nil
	case s.arg.PartitionBy != "":
		ctx, cancel := apiContext()
		defer cancel()
		info, err := stream.Info(ctx, jetstream.WithSubjectFilter(s.arg.PartitionBy))
		if err != nil {
			return nil, fmt.Errorf("natsconn: stream %q: %w", s.arg.Stream, err)
		}
		parts := slices.Sorted(maps.Keys(info.State.Subjects))
		if len(parts) == 0 {
			return nil, fmt.Errorf("natsconn: stream %q has no subject matching %q to read", s.arg.Stream, s.arg.PartitionBy)
		}
		return parts, nil
	}
	return stream.CachedInfo().Config.Subjects, nil
}

// findBounds records the last sequence of every partition now.
func (s *jsSource) findBounds(stream jetstream.Stream) error {
	s.bounds = map[string]uint64{}
	for _, p := range s.parts {
		ctx, cancel := apiContext()
		m, err := stream.GetLastMsgForSubject(ctx, p)
		cancel()
		switch {
		case errors.Is(err, jetstream.ErrMsgNotFound):
			s.bounds[p] = 0
		case err != nil:
			return fmt.Errorf("natsconn: stream %q, subject %q: %w", s.arg.Stream, p, err)
		default:
			s.bounds[p] = m.Sequence
		}
	}
	return nil
}

// Parts lists the subject filters.
func (s *jsSource) Parts() ([]string, error) { return s.parts, nil }

// Close closes the connection.
func (s *jsSource) Close() error {
	s.nc.Close()
	return nil
}

// Open starts an ordered consumer on the partition, right after the
// sequence in resume, or where the source starts.
func (s *jsSource) Open(part string, resume []byte) (connectors.SourcePart, error) {
	if !slices.Contains(s.parts, part) {
		return nil, fmt.Errorf("%w %q", connectors.ErrUnknownPart, part)
	}
	cfg := s.start
	cfg.FilterSubjects = []string{part}
	var last uint64
	if len(resume) > 0 {
		seq, n := binary.Uvarint(resume)
		if n != len(resume) {
			return nil, fmt.Errorf("%w: %s: %d bytes are not a stream sequence", connectors.ErrBadResume, part, len(resume))
		}
		last = seq
		cfg.DeliverPolicy, cfg.OptStartSeq, cfg.OptStartTime = jetstream.DeliverByStartSequencePolicy, seq+1, nil
	}
	p := &jsPart{name: part, last: last, format: s.arg.Format, bounded: !s.arg.Tail}
	switch {
	case len(resume) > 0, cfg.DeliverPolicy == jetstream.DeliverAllPolicy:
		p.placed = true
	case cfg.DeliverPolicy == jetstream.DeliverByStartSequencePolicy: // "new"
		p.placed, p.last = true, cfg.OptStartSeq-1
	}
	if p.bounded {
		p.bound = s.bounds[part]
		if p.bound == 0 || last >= p.bound {
			p.ended = true
			return p, nil
		}
	}
	ctx, cancel := apiContext()
	defer cancel()
	cons, err := s.js.OrderedConsumer(ctx, s.arg.Stream, cfg)
	if err != nil {
		return nil, fmt.Errorf("natsconn: reading %q of stream %q: %w", part, s.arg.Stream, err)
	}
	batch := s.arg.Batch
	if batch <= 0 {
		batch = defaultBatch
	}
	it, err := cons.Messages(jetstream.PullMaxMessages(batch))
	if err != nil {
		return nil, fmt.Errorf("natsconn: reading %q of stream %q: %w", part, s.arg.Stream, err)
	}
	p.ahead = newFetcher(it, batch)
	return p, nil
}

// jsPart is an open partition.
type jsPart struct {
	name    string
	format  string
	ahead   *fetcher
	last    uint64 // stream sequence of the last message emitted
	placed  bool   // last is a position: false for a time start until a message came
	bounded bool
	bound   uint64
	ended   bool
	msg     abi.Message
	w       abi.Writer
}

// Next appends the messages fetched so far, up to max.
func (p *jsPart) Next(b *abi.Batch, max int) (bool, error) {
	if p.ended {
		return true, nil
	}
	for n := 0; n < max; n++ {
		m, ok, err := p.ahead.next()
		if err != nil {
			return false, fmt.Errorf("natsconn: reading %q after sequence %d: %w", p.name, p.last, err)
		}
		if !ok {
			return false, nil
		}
		meta, err := parseAck(m.Reply())
		if err != nil {
			return false, fmt.Errorf("natsconn: reading %q after sequence %d: %w", p.name, p.last, err)
		}
		seq := meta.seq
		if p.bounded && seq > p.bound {
			p.ended = true
			return true, nil
		}
		p.emit(b, m, meta)
		p.last, p.placed = seq, true
		if p.bounded && (seq >= p.bound || meta.pending == 0) {
			p.ended = true
			return true, nil
		}
	}
	return false, nil
}

// emit appends one message as an item.
func (p *jsPart) emit(b *abi.Batch, m jetstream.Msg, meta ackMeta) {
	if p.format == abi.FormatPayload {
		b.Append(nil, false, m.Data())
		return
	}
	p.msg = abi.Message{Subject: m.Subject(), Value: m.Data(), Headers: headers(m.Headers(), p.msg.Headers[:0]),
		Partition: p.name, Seq: meta.seq, Time: meta.time}
	p.w.Reset()
	p.msg.Encode(&p.w)
	b.Append(nil, false, p.w.B)
}

// headers lists a message's headers sorted by name.
func headers(h nats.Header, out []abi.Header) []abi.Header {
	for _, k := range slices.Sorted(maps.Keys(h)) {
		for _, v := range h[k] {
			out = append(out, abi.Header{Name: k, Value: []byte(v)})
		}
	}
	return out
}

// Snapshot is the sequence of the last message emitted (or, before the
// first, the sequence a "new" start begins after); nil while a time start
// has emitted nothing, so a resume starts from that time again.
func (p *jsPart) Snapshot() []byte {
	if !p.placed {
		return nil
	}
	return binary.AppendUvarint(nil, p.last)
}

// Close stops the consumer.
func (p *jsPart) Close() error {
	if p.ahead != nil {
		p.ahead.stop()
	}
	return nil
}

// ackMeta is what a source needs of a message's metadata.
type ackMeta struct {
	seq     uint64 // stream sequence
	pending uint64 // messages of the consumer after this one
	time    int64  // when the stream stored it, in Unix nanoseconds
}

// errNotAck is the error of a reply subject that is not a JetStream
// acknowledgement subject.
var errNotAck = errors.New("not a JetStream message: its reply subject is not $JS.ACK.<stream>.<consumer>.<delivered>.<sseq>.<cseq>.<tm>.<pending> (with a domain and an account hash after $JS.ACK on newer servers)")

// parseAck reads the metadata of a message from its reply subject as
// jetstream.Msg.Metadata does, in one pass and without allocating:
// $JS.ACK.<stream>.<consumer>.<delivered>.<sseq>.<cseq>.<tm>.<pending>,
// or, from newer servers, with <domain>.<account hash> after $JS.ACK and
// one more token (or more) at the end.
func parseAck(reply string) (ackMeta, error) {
	const prefix = "$JS.ACK."
	rest, ok := strings.CutPrefix(reply, prefix)
	// starts[i] is where token i after $JS.ACK begins; ends likewise.
	var starts, ends [ackMaxTokens]int
	n := 0
	if ok {
		for i := 0; i <= len(rest) && n < ackMaxTokens; i++ {
			if i == len(rest) || rest[i] == '.' {
				ends[n] = i
				n++
				if n < ackMaxTokens {
					starts[n] = i + 1
				}
			}
		}
	}
	off := 0
	switch {
	case !ok || n < 7 || n == 8:
		return ackMeta{}, fmt.Errorf("%w: %q", errNotAck, reply)
	case n > 7:
		off = 2 // domain and account hash
	}
	var t [4]uint64 // sseq, cseq, tm, pending: tokens 3 to 6
	for i := range t {
		k := off + 3 + i
		v, ok := parseUint(rest[starts[k]:ends[k]])
		if !ok {
			return ackMeta{}, fmt.Errorf("%w: %q", errNotAck, reply)
		}
		t[i] = v
	}
	return ackMeta{seq: t[0], time: int64(t[2]), pending: t[3]}, nil
}

// ackMaxTokens is how many tokens after $JS.ACK parseAck looks at: the
// eleven of the newer form (two of which are the domain and the hash)
// are enough.
const ackMaxTokens = 11

// parseUint reads a decimal number of at most 19 digits.
func parseUint(s string) (uint64, bool) {
	if s == "" || len(s) > 19 {
		return 0, false
	}
	var v uint64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + uint64(c-'0')
	}
	return v, true
}
