package natsconn

import (
	"fmt"
	"strconv"

	"github.com/bxwasm/bxwasm/guest-sdk/go/abi"
	"github.com/bxwasm/bxwasm/internal/connectors"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// deadLetter publishes a poison item to subject on nc: the original
// message's data and headers (or the item itself, in Format "payload"), with
// headers saying why and where from. When a JetStream stream holds subject
// the message goes through JetStream with a Nats-Msg-Id naming the item, so
// a replay after a crash does not keep it twice.
func deadLetter(nc *nats.Conn, step, subject string, value []byte, reason string) (string, error) {
	m := nats.NewMsg(subject)
	m.Data = value
	where := "an item of " + step
	if am, err := abi.DecodeMessage(value); err == nil {
		m.Data = am.Value
		for _, h := range am.Headers {
			m.Header.Add(h.Name, string(h.Value))
		}
		m.Header.Set(connectors.HeaderPartition, am.Partition)
		m.Header.Set(connectors.HeaderSubject, am.Subject)
		if am.Seq != 0 {
			m.Header.Set(connectors.HeaderSeq, strconv.FormatUint(am.Seq, 10))
			m.Header.Set(nats.MsgIdHdr, "deadletter/"+step+"/"+am.Partition+"/"+strconv.FormatUint(am.Seq, 10))
			where = fmt.Sprintf("message %d of partition %q of %s", am.Seq, am.Partition, step)
		}
	}
	m.Header.Set(connectors.HeaderStep, step)
	m.Header.Set(connectors.HeaderError, reason)
	if err := publishKept(nc, m); err != nil {
		return where, fmt.Errorf("natsconn: publishing a dead letter to %q: %w", subject, err)
	}
	return where, nil
}

// publishKept publishes m through JetStream when a stream holds its
// subject, and waits for the stream to have it; else on core NATS.
func publishKept(nc *nats.Conn, m *nats.Msg) error {
	js, err := jetstream.New(nc)
	if err != nil {
		return err
	}
	ctx, cancel := apiContext()
	defer cancel()
	if _, err := js.StreamNameBySubject(ctx, m.Subject); err != nil {
		if err := nc.PublishMsg(m); err != nil {
			return err
		}
		return nc.Flush()
	}
	_, err = js.PublishMsg(ctx, m)
	return err
}

// DeadLetter publishes a poison item of the source; see deadLetter.
func (s *jsSource) DeadLetter(subject string, value []byte, reason string) (string, error) {
	return deadLetter(s.nc, s.step, subject, value, reason)
}

// DeadLetter publishes a poison item of the source; see deadLetter.
func (s *coreSource) DeadLetter(subject string, value []byte, reason string) (string, error) {
	return deadLetter(s.nc, s.step, subject, value, reason)
}
