package cluster

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
)

// Finish tells a process when every process of the run has finished its
// share, so none reports success while another is still failing.
type Finish struct {
	sub     *nats.Subscription
	subject string
	n       int
	heard   chan struct{} // signalled when a new process is heard
	mu      struct {
		sync.Mutex
		seen map[string]bool
	}
}

// SubscribeFinish listens for the processes' finish notices; it must
// happen before any process can finish.
func SubscribeFinish(nc *nats.Conn, run string, processes int) (*Finish, error) {
	f := &Finish{subject: "bxwasm." + run + ".finished.", n: processes, heard: make(chan struct{}, 1)}
	f.mu.seen = map[string]bool{}
	sub, err := nc.Subscribe(f.subject+"*", f.record)
	if err != nil {
		return nil, fmt.Errorf("cluster: subscribing to finish notices: %w", err)
	}
	f.sub = sub
	return f, nc.Flush()
}

// record notes a process's notice; repeats cost a map lookup.
func (f *Finish) record(m *nats.Msg) {
	f.mu.Lock()
	fresh := !f.mu.seen[m.Subject]
	f.mu.seen[m.Subject] = true
	f.mu.Unlock()
	if fresh {
		select {
		case f.heard <- struct{}{}:
		default:
		}
	}
}

func (f *Finish) all() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.mu.seen) == f.n
}

// Unsubscribe stops listening.
func (f *Finish) Unsubscribe() { _ = f.sub.Unsubscribe() }

// Wait announces this process finished and waits for every other one, or
// for the first failure among them. It repeats its announcement while it
// waits, and for a moment after it has heard everyone, because a process
// that exits takes its unsent messages (and, in a manual cluster, its NATS
// server) with it: a slower process must still hear it once.
func (f *Finish) Wait(ctx context.Context, nc *nats.Conn, process int, watch <-chan error) error {
	subject := fmt.Sprintf("%s%d", f.subject, process)
	tick := time.NewTicker(finishRepeat)
	defer tick.Stop()
	var heardAll time.Time
	for {
		if err := nc.Publish(subject, nil); err != nil {
			return fmt.Errorf("cluster: announcing the end of process %d: %w", process, err)
		}
		if f.all() {
			if heardAll.IsZero() {
				heardAll = time.Now()
			}
			if time.Since(heardAll) >= finishLinger {
				return nc.Flush()
			}
		}
		select {
		case <-f.heard:
		case <-tick.C:
		case err := <-watch:
			return err
		case <-ctx.Done():
			return context.Cause(ctx)
		}
	}
}

// finishRepeat is how often a finished process repeats that it finished;
// finishLinger how long it keeps doing so after hearing every other one.
const (
	finishRepeat = 100 * time.Millisecond
	finishLinger = 500 * time.Millisecond
)
