package kafkaconn

import (
	"context"
	"encoding/binary"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/bxwasm/bxwasm/guest-sdk/go/abi"
	"github.com/bxwasm/bxwasm/internal/connectors"
)

// defaultBatch is how many records a source partition reads at once when
// the step does not say (abi.StreamConn.Batch).
const defaultBatch = 1000

// Starts of abi.StreamConn.Start.
const (
	startFirst = "first"
	startNew   = "new"
	startTime  = "time"
)

// source reads every partition of the step's topics.
type source struct {
	step  string
	arg   abi.StreamConn
	conn  connectors.Connection
	cl    *kgo.Client // for the offsets Open looks up
	adm   *kadm.Client
	parts []string
	// ends are the high watermarks when the source was created (nil with
	// Tail); starts the offsets of Start "time".
	ends, starts kadm.ListedOffsets
}

// NewSource creates the Kafka source of an input step (the host names the
// step in the errors it reports): it checks the
// argument, that a broker answers and that every topic exists, and reads
// the offsets a bounded source ends at.
func NewSource(step string, arg abi.StreamConn, conn connectors.Connection) (connectors.PartitionedSource, error) {
	at, err := checkSourceArg(arg)
	if err != nil {
		return nil, err
	}
	cl, err := newClient(conn)
	if err != nil {
		return nil, err
	}
	s := &source{step: step, arg: arg, conn: conn, cl: cl, adm: kadm.NewClient(cl)}
	if err := s.load(at); err != nil {
		cl.Close()
		return nil, err
	}
	return s, nil
}

// checkSourceArg checks the fields a source uses and refuses the others;
// it returns StartTime, parsed.
func checkSourceArg(arg abi.StreamConn) (time.Time, error) {
	var at time.Time
	switch {
	case len(arg.Topics) == 0:
		return at, fmt.Errorf("%w: a Kafka source needs topics", ErrBadArg)
	case arg.Stream != "" || arg.Subject != "" || arg.Topic != "" || len(arg.Subjects) > 0 || arg.PartitionBy != "" || arg.Partitions != 0:
		return at, fmt.Errorf("%w: a Kafka source takes topics, start, start_time, tail, batch and format only", ErrBadArg)
	case arg.Format != "" && arg.Format != abi.FormatMessage && arg.Format != abi.FormatPayload:
		return at, fmt.Errorf("%w: format %q is not %q or %q", ErrBadArg, arg.Format, abi.FormatMessage, abi.FormatPayload)
	case arg.Batch < 0:
		return at, fmt.Errorf("%w: batch %d is negative", ErrBadArg, arg.Batch)
	}
	switch arg.Start {
	case "", startFirst, startNew:
		return at, nil
	case startTime:
		at, err := time.Parse(time.RFC3339Nano, arg.StartTime)
		if err != nil {
			return at, fmt.Errorf("%w: start_time %q is not an RFC 3339 time: %v", ErrBadArg, arg.StartTime, err)
		}
		return at, nil
	}
	return at, fmt.Errorf("%w: start %q is not first, new or time", ErrBadArg, arg.Start)
}

// load lists the partitions and the offsets the source starts or ends at.
func (s *source) load(at time.Time) error {
	ctx, cancel := context.WithTimeout(context.Background(), dialTimeout)
	defer cancel()
	counts, err := topicPartitions(ctx, s.adm, s.conn, s.arg.Topics)
	if err != nil {
		return err
	}
	for _, t := range s.arg.Topics {
		for p := range counts[t] {
			s.parts = append(s.parts, partName(t, p))
		}
	}
	if !s.arg.Tail {
		if s.ends, err = offsetsOf(ctx, s.conn, s.arg.Topics, s.adm.ListEndOffsets); err != nil {
			return err
		}
	}
	if s.arg.Start == startTime {
		after := func(ctx context.Context, topics ...string) (kadm.ListedOffsets, error) {
			return s.adm.ListOffsetsAfterMilli(ctx, at.UnixMilli(), topics...)
		}
		s.starts, err = offsetsOf(ctx, s.conn, s.arg.Topics, after)
	}
	return err
}

// partName names partition p of topic.
func partName(topic string, p int32) string { return topic + "/" + strconv.Itoa(int(p)) }

// Parts returns "TOPIC/N" for every partition of every topic.
func (s *source) Parts() ([]string, error) { return s.parts, nil }

// Open starts reading a partition at the offset resume holds, else where
// Start says.
func (s *source) Open(part string, resume []byte) (connectors.SourcePart, error) {
	if !slices.Contains(s.parts, part) {
		return nil, fmt.Errorf("%w %q", connectors.ErrUnknownPart, part)
	}
	tp := splitPart(part)
	from, err := s.startOffset(tp, resume)
	if err != nil {
		return nil, err
	}
	end := int64(-1)
	if s.ends != nil {
		o, _ := s.ends.Lookup(tp.topic, tp.partition)
		end = o.Offset
	}
	return s.openPart(tp, from, end)
}

// topicPart is one partition of a topic, with its source partition's name.
type topicPart struct {
	topic     string
	partition int32
	name      string
}

// splitPart reads a name partName made (topic names hold no '/').
func splitPart(name string) topicPart {
	i := strings.LastIndexByte(name, '/')
	p, _ := strconv.ParseInt(name[i+1:], 10, 32)
	return topicPart{topic: name[:i], partition: int32(p), name: name}
}

// startOffset is the offset a partition starts reading at.
func (s *source) startOffset(tp topicPart, resume []byte) (int64, error) {
	if len(resume) > 0 {
		off, n := binary.Uvarint(resume)
		if n != len(resume) {
			return 0, fmt.Errorf("kafkaconn: partition %s: resume state %x is not an offset", tp.name, resume)
		}
		return int64(off), nil
	}
	switch s.arg.Start {
	case startTime:
		o, _ := s.starts.Lookup(tp.topic, tp.partition)
		return o.Offset, nil
	case startNew:
		ctx, cancel := context.WithTimeout(context.Background(), dialTimeout)
		defer cancel()
		ends, err := offsetsOf(ctx, s.conn, []string{tp.topic}, s.adm.ListEndOffsets)
		if err != nil {
			return 0, err
		}
		o, _ := ends.Lookup(tp.topic, tp.partition)
		return o.Offset, nil
	}
	return 0, nil
}

// Close closes the client the source looks offsets up with.
func (s *source) Close() error {
	s.cl.Close()
	return nil
}
