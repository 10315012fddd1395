package kafkaconn

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/bxwasm/bxwasm/guest-sdk/go/abi"
	"github.com/bxwasm/bxwasm/internal/connectors"
)

// deliveryTimeout is how long a record may wait for the broker's
// acknowledgement before the run fails (and its resume produces it).
const deliveryTimeout = 2 * time.Minute

// sink produces into the partitions of one topic, one sink partition each.
type sink struct {
	step  string
	topic string
	conn  connectors.Connection
	msg   bool // Format "message"
	parts int32
	cl    *kgo.Client // produces for every partition the process opens
	adm   *kadm.Client
}

// NewSink creates the Kafka sink of output step step: it checks the
// argument, that a broker answers and that the topic exists.
func NewSink(step string, arg abi.StreamConn, conn connectors.Connection) (connectors.PartitionedSink, error) {
	if err := checkSinkArg(arg); err != nil {
		return nil, err
	}
	cl, err := newClient(conn, kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.RecordDeliveryTimeout(deliveryTimeout), kgo.ProducerLinger(0))
	if err != nil {
		return nil, err
	}
	s := &sink{step: step, topic: arg.Topic, conn: conn, msg: arg.Format == abi.FormatMessage, cl: cl, adm: kadm.NewClient(cl)}
	ctx, cancel := context.WithTimeout(context.Background(), dialTimeout)
	defer cancel()
	counts, err := topicPartitions(ctx, s.adm, conn, []string{arg.Topic})
	if err != nil {
		cl.Close()
		return nil, err
	}
	s.parts = counts[arg.Topic]
	return s, nil
}

// checkSinkArg checks the fields a sink uses and refuses the others.
func checkSinkArg(arg abi.StreamConn) error {
	switch {
	case arg.Topic == "":
		return fmt.Errorf("%w: a Kafka sink needs a topic", ErrBadArg)
	case len(arg.Topics) > 0 || arg.Stream != "" || arg.Subject != "" || len(arg.Subjects) > 0 || arg.PartitionBy != "" ||
		arg.Partitions != 0 || arg.Start != "" || arg.StartTime != "" || arg.Tail || arg.Batch != 0:
		return fmt.Errorf("%w: a Kafka sink takes a topic and a format only (its partitions are the topic's)", ErrBadArg)
	case arg.Format != "" && arg.Format != abi.FormatMessage && arg.Format != abi.FormatPayload:
		return fmt.Errorf("%w: format %q is not %q or %q", ErrBadArg, arg.Format, abi.FormatMessage, abi.FormatPayload)
	}
	return nil
}

// Parts returns "0" to "n-1" for the n partitions of the topic.
func (s *sink) Parts() ([]string, error) {
	parts := make([]string, s.parts)
	for i := range parts {
		parts[i] = strconv.Itoa(i)
	}
	return parts, nil
}

// Open opens sink partition part, which produces into the Kafka partition
// of the same number. With resume state it holds the items the snapshot
// had not published, less those the last record of the partition shows
// were produced.
func (s *sink) Open(part string, resume []byte) (connectors.SinkPart, error) {
	n, err := strconv.Atoi(part)
	if err != nil || n < 0 || n >= int(s.parts) || strconv.Itoa(n) != part {
		return nil, fmt.Errorf("%w %q", connectors.ErrUnknownPart, part)
	}
	p := &sinkPart{s: s, name: part, partition: int32(n)}
	if len(resume) == 0 {
		return p, nil
	}
	if p.mu.kept, err = decodePending(resume); err != nil {
		return nil, fmt.Errorf("kafkaconn: sink partition %s: %w", part, err)
	}
	if len(p.mu.kept) == 0 {
		return p, nil
	}
	last, err := s.lastID(int32(n))
	if err != nil {
		return nil, err
	}
	p.skipProduced(last)
	return p, nil
}

// Close closes the producing client.
func (s *sink) Close() error {
	s.cl.Close()
	return nil
}

// lastID returns the bxwasm-id of the last record of a partition, or ""
// if the partition is empty or its last record has none.
func (s *sink) lastID(partition int32) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), dialTimeout)
	defer cancel()
	topics := []string{s.topic}
	starts, err := offsetsOf(ctx, s.conn, topics, s.adm.ListStartOffsets)
	if err != nil {
		return "", err
	}
	ends, err := offsetsOf(ctx, s.conn, topics, s.adm.ListEndOffsets)
	if err != nil {
		return "", err
	}
	start, _ := starts.Lookup(s.topic, partition)
	end, _ := ends.Lookup(s.topic, partition)
	if end.Offset <= start.Offset {
		return "", nil
	}
	rec, err := s.readAt(ctx, partition, end.Offset-1)
	if err != nil {
		return "", err
	}
	for _, h := range rec.Headers {
		if h.Key == idHeader {
			return string(h.Value), nil
		}
	}
	return "", nil
}

// readAt reads the record at offset of a partition.
func (s *sink) readAt(ctx context.Context, partition int32, offset int64) (*kgo.Record, error) {
	cl, err := newClient(s.conn, kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{
		s.topic: {partition: kgo.NewOffset().At(offset)}}))
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	for {
		fs := cl.PollRecords(ctx, 1)
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("kafkaconn: connection %q: reading the last record of %s/%d within %s: %w",
				s.conn.Name, s.topic, partition, dialTimeout, err)
		}
		var rec *kgo.Record
		fs.EachRecord(func(r *kgo.Record) {
			if rec == nil && r.Offset == offset {
				rec = r
			}
		})
		if rec != nil {
			return rec, nil
		}
		if err := fs.Err(); err != nil {
			return nil, fmt.Errorf("kafkaconn: reading the last record of %s/%d: %w", s.topic, partition, err)
		}
	}
}
