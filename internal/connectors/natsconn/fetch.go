package natsconn

import (
	"errors"
	"sync"

	"github.com/nats-io/nats.go/jetstream"
)

// fetcher reads a consumer's messages on its own goroutine into a bounded
// buffer, so a worker's Next never waits for the server, and the consumer
// stops pulling when the worker stops taking (backpressure). The worker
// takes the whole buffer at once (the two swap), so a message costs an
// append under an uncontended lock, not a channel send and receive.
type fetcher struct {
	it   jetstream.MessagesContext
	max  int // the most messages buffered
	done chan struct{}

	mu      sync.Mutex
	room    *sync.Cond      // signalled when the worker takes the buffer, or on stop
	buf     []jetstream.Msg // fetched, not yet taken
	fail    error           // what ended the reading, after buf
	stopped bool

	taken []jetstream.Msg // the worker's side: taken, not yet returned by next
	i     int
}

func newFetcher(it jetstream.MessagesContext, batch int) *fetcher {
	f := &fetcher{it: it, max: batch, done: make(chan struct{}),
		buf: make([]jetstream.Msg, 0, batch), taken: make([]jetstream.Msg, 0, batch)}
	f.room = sync.NewCond(&f.mu)
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
		if !f.put(m, err) {
			return
		}
	}
}

// put buffers a message, or the error that ends the reading, waiting for
// room; it reports whether to go on.
func (f *fetcher) put(m jetstream.Msg, err error) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err != nil {
		f.fail = err
		return false
	}
	for len(f.buf) >= f.max && !f.stopped {
		f.room.Wait()
	}
	if f.stopped {
		return false
	}
	f.buf = append(f.buf, m)
	return true
}

// next returns a fetched message, if one is there.
func (f *fetcher) next() (jetstream.Msg, bool, error) {
	if f.i == len(f.taken) && !f.take() {
		f.mu.Lock()
		defer f.mu.Unlock()
		return nil, false, f.fail
	}
	m := f.taken[f.i]
	f.taken[f.i] = nil
	f.i++
	return m, true, nil
}

// take swaps the worker's emptied slice with the buffer; it reports
// whether it got any message.
func (f *fetcher) take() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.buf) == 0 {
		return false
	}
	f.taken, f.buf, f.i = f.buf, f.taken[:0], 0
	f.room.Signal()
	return true
}

// stop ends the consumer and its goroutine.
func (f *fetcher) stop() {
	f.it.Stop()
	f.mu.Lock()
	f.stopped = true
	f.room.Broadcast()
	f.mu.Unlock()
	<-f.done
}
