package natsconn

import (
	"errors"

	"github.com/nats-io/nats.go/jetstream"
)

// fetcher reads a consumer's messages on its own goroutine into a bounded
// queue, so a worker's Next never waits for the server, and the consumer
// stops pulling when the worker stops taking (backpressure).
type fetcher struct {
	it   jetstream.MessagesContext
	msgs chan jetstream.Msg
	err  chan error
	done chan struct{}
	fail error
}

func newFetcher(it jetstream.MessagesContext, batch int) *fetcher {
	f := &fetcher{it: it, msgs: make(chan jetstream.Msg, batch), err: make(chan error, 1), done: make(chan struct{})}
	go f.run()
	return f
}

func (f *fetcher) run() {
	defer close(f.done)
	for {
		m, err := f.it.Next()
		if errors.Is(err, jetstream.ErrMsgIteratorClosed) {
			return
		}
		if err != nil {
			f.err <- err
			return
		}
		f.msgs <- m
	}
}

// next returns a fetched message, if one is there.
func (f *fetcher) next() (jetstream.Msg, bool, error) {
	if f.fail != nil {
		return nil, false, f.fail
	}
	select {
	case m := <-f.msgs:
		return m, true, nil
	default:
	}
	select {
	case f.fail = <-f.err:
		return nil, false, f.fail
	default:
		return nil, false, nil
	}
}

// stop ends the consumer and its goroutine.
func (f *fetcher) stop() {
	f.it.Stop()
	for {
		select {
		case <-f.msgs: // let a blocked send finish
		case <-f.done:
			return
		}
	}
}
