package kafkaconn

import (
	"context"
	"fmt"
	"strconv"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/bxwasm/bxwasm/guest-sdk/go/abi"
	"github.com/bxwasm/bxwasm/internal/connectors"
)

// DeadLetter produces a poison item of the source to topic subject on the
// source's connection: the original record's key, value and headers, with
// headers saying why and where from (connectors.HeaderError and the
// others). A replay after a crash may produce it again: at least once.
func (s *source) DeadLetter(subject string, value []byte, reason string) (string, error) {
	rec := &kgo.Record{Topic: subject, Value: value}
	where := "an item of " + s.step
	if m, err := abi.DecodeMessage(value); err == nil {
		rec.Key, rec.Value = m.Key, m.Value
		for _, h := range m.Headers {
			rec.Headers = append(rec.Headers, kgo.RecordHeader{Key: h.Name, Value: h.Value})
		}
		pos := strconv.FormatUint(m.Seq, 10)
		rec.Headers = append(rec.Headers,
			kgo.RecordHeader{Key: connectors.HeaderPartition, Value: []byte(m.Partition)},
			kgo.RecordHeader{Key: connectors.HeaderSeq, Value: []byte(pos)},
			kgo.RecordHeader{Key: connectors.HeaderSubject, Value: []byte(m.Subject)})
		where = fmt.Sprintf("record %s of partition %q of %s", pos, m.Partition, s.step)
	}
	rec.Headers = append(rec.Headers,
		kgo.RecordHeader{Key: connectors.HeaderStep, Value: []byte(s.step)},
		kgo.RecordHeader{Key: connectors.HeaderError, Value: []byte(reason)})
	ctx, cancel := context.WithTimeout(context.Background(), 6*dialTimeout)
	defer cancel()
	if err := s.cl.ProduceSync(ctx, rec).FirstErr(); err != nil {
		return where, fmt.Errorf("kafkaconn: producing a dead letter to %q on connection %q: %w", subject, s.conn.Name, err)
	}
	return where, nil
}
