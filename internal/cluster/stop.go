package cluster

import (
	"context"
	"fmt"
	"sync"

	"github.com/nats-io/nats.go"
)

// ShareStop makes a graceful stop of one process a stop of the whole run:
// when local closes, it tells every process; the returned channel closes
// when local does or any process says to stop. It ends with ctx.
func ShareStop(ctx context.Context, nc *nats.Conn, run string, local <-chan struct{}) (<-chan struct{}, error) {
	subject := "bxwasm." + run + ".stop"
	stop := make(chan struct{})
	var once sync.Once
	fire := func() { once.Do(func() { close(stop) }) }
	sub, err := nc.Subscribe(subject, func(*nats.Msg) { fire() })
	if err != nil {
		return nil, fmt.Errorf("cluster: subscribing to stop notices: %w", err)
	}
	go func() {
		defer sub.Unsubscribe()
		select {
		case <-local:
			nc.Publish(subject, nil) // a failure shows as the peers' lost connection
			nc.Flush()
			fire()
		case <-ctx.Done():
			return
		}
		<-ctx.Done()
	}()
	return stop, nc.Flush()
}
