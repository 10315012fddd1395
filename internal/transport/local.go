package transport

import (
	"sync"
	"sync/atomic"
)

// Local connects the workers of one process through memory.
type Local struct {
	eps []*localEndpoint
}

// NewLocal returns a transport between n workers in this process.
func NewLocal(n int) *Local {
	l := &Local{eps: make([]*localEndpoint, n)}
	for i := range l.eps {
		l.eps[i] = &localEndpoint{net: l, index: i, ready: make(chan struct{}, 1)}
	}
	return l
}

// Endpoint returns worker i's endpoint.
func (l *Local) Endpoint(i int) Endpoint { return l.eps[i] }

// Close makes further sends fail.
func (l *Local) Close() {
	for _, ep := range l.eps {
		ep.mu.Lock()
		ep.mu.closed = true
		ep.mu.Unlock()
	}
}

type localEndpoint struct {
	net      *Local
	index    int
	ready    chan struct{}
	inFlight atomic.Int64
	mu       struct {
		sync.Mutex
		queue  []Message
		closed bool
	}
}

func (e *localEndpoint) Send(to int, m Message) error {
	m.From = e.index
	dst := e.net.eps[to]
	e.inFlight.Add(int64(m.Size()))
	dst.mu.Lock()
	if dst.mu.closed {
		dst.mu.Unlock()
		return ErrClosed
	}
	dst.mu.queue = append(dst.mu.queue, m)
	dst.mu.Unlock()
	dst.signal()
	return nil
}

func (e *localEndpoint) Receive(buf []Message) []Message {
	e.mu.Lock()
	buf = append(buf, e.mu.queue...)
	clear(e.mu.queue)
	e.mu.queue = e.mu.queue[:0]
	e.mu.Unlock()
	return buf
}

func (e *localEndpoint) Ready() <-chan struct{} { return e.ready }

func (e *localEndpoint) Consumed(from int, size int) {
	src := e.net.eps[from]
	src.inFlight.Add(-int64(size))
	src.signal()
}

func (e *localEndpoint) InFlight() int64 { return e.inFlight.Load() }

func (e *localEndpoint) signal() {
	select {
	case e.ready <- struct{}{}:
	default:
	}
}
