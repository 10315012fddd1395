package kafkaconn

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/plain"

	"github.com/bxwasm/bxwasm/internal/connectors"
)

// dialTimeout bounds what NewSource and NewSink ask the brokers (the
// topics, their offsets) and what a sink partition reads when it opens.
const dialTimeout = 5 * time.Second

// ErrUnreachable is returned when no broker of a connection answers.
var ErrUnreachable = errors.New("kafkaconn: broker unreachable")

// ErrNoTopic is returned for a topic the cluster does not have.
var ErrNoTopic = errors.New("kafkaconn: no such topic")

// ErrBadArg is returned for a step argument the connector cannot use.
var ErrBadArg = errors.New("kafkaconn: bad argument")

// clientOptions turns a connection's URL into the client's seed brokers,
// with SASL PLAIN when the URL holds credentials.
func clientOptions(conn connectors.Connection) ([]kgo.Opt, error) {
	var seeds []string
	var auth *plain.Auth
	for _, p := range strings.Split(conn.URL, ",") {
		u, err := url.Parse(strings.TrimSpace(p))
		if err != nil || u.Scheme != connectors.ProtoKafka || u.Host == "" {
			return nil, fmt.Errorf("%w: connection %q: %q is not kafka://HOST:PORT", ErrBadArg, conn.Name, conn.Redacted())
		}
		seeds = append(seeds, u.Host)
		if u.User != nil {
			pass, _ := u.User.Password()
			auth = &plain.Auth{User: u.User.Username(), Pass: pass}
		}
	}
	opts := []kgo.Opt{kgo.SeedBrokers(seeds...), kgo.DialTimeout(dialTimeout)}
	if auth != nil {
		opts = append(opts, kgo.SASL(auth.AsMechanism()))
	}
	return opts, nil
}

// newClient opens a client on the connection with extra options.
func newClient(conn connectors.Connection, extra ...kgo.Opt) (*kgo.Client, error) {
	opts, err := clientOptions(conn)
	if err != nil {
		return nil, err
	}
	cl, err := kgo.NewClient(append(opts, extra...)...)
	if err != nil {
		return nil, fmt.Errorf("kafkaconn: connection %q (%s): %w", conn.Name, conn.Redacted(), err)
	}
	return cl, nil
}

// topicPartitions returns how many partitions each topic has, failing
// with ErrUnreachable or ErrNoTopic.
func topicPartitions(ctx context.Context, adm *kadm.Client, conn connectors.Connection, topics []string) (map[string]int32, error) {
	details, err := adm.ListTopics(ctx, topics...)
	if err != nil {
		return nil, unreachable(conn, err)
	}
	out := make(map[string]int32, len(topics))
	for _, t := range topics {
		d, ok := details[t]
		if !ok || d.Err != nil || len(d.Partitions) == 0 {
			return nil, fmt.Errorf("%w %q on connection %q (%s); create it first", ErrNoTopic, t, conn.Name, conn.Redacted())
		}
		out[t] = int32(len(d.Partitions))
	}
	return out, nil
}

// unreachable wraps the error of a request no broker answered.
func unreachable(conn connectors.Connection, err error) error {
	return fmt.Errorf("%w: no broker of connection %q (%s) answered (%v, waited at most %s); check that the broker runs and that --connection %s=URL names it",
		ErrUnreachable, conn.Name, conn.Redacted(), err, dialTimeout, conn.Name)
}

// offsetsOf lists offsets of every partition of topics with list (one of
// kadm's List*Offsets), failing if any partition has none.
func offsetsOf(ctx context.Context, conn connectors.Connection, topics []string,
	list func(context.Context, ...string) (kadm.ListedOffsets, error)) (kadm.ListedOffsets, error) {
	offs, err := list(ctx, topics...)
	if err != nil {
		return nil, unreachable(conn, err)
	}
	if err := offs.Error(); err != nil {
		return nil, fmt.Errorf("kafkaconn: connection %q (%s): listing offsets of %s: %w", conn.Name, conn.Redacted(), strings.Join(topics, ", "), err)
	}
	return offs, nil
}
