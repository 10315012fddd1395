package natsconn

import (
	"context"
	"fmt"
	"time"

	"github.com/bxwasm/bxwasm/internal/connectors"
	"github.com/nats-io/nats.go"
)

// dialTimeout bounds how long a connector waits for its server before the
// run starts.
const dialTimeout = 5 * time.Second

// dial connects to conn for step.
func dial(step string, conn connectors.Connection) (*nats.Conn, error) {
	opts := []nats.Option{nats.Name("bxwasm " + step), nats.Timeout(dialTimeout), nats.MaxReconnects(-1)}
	if conn.Creds != "" {
		opts = append(opts, nats.UserCredentials(conn.Creds))
	}
	nc, err := nats.Connect(conn.URL, opts...)
	if err != nil {
		return nil, fmt.Errorf("natsconn: cannot reach connection %q (%s): %w; is the server up, and is the URL right?",
			conn.Name, conn.Redacted(), err)
	}
	return nc, nil
}

// apiContext bounds one request to the JetStream API.
func apiContext() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), dialTimeout)
}
