package transport

import (
	"sync/atomic"
)

// Local connects the workers of one process through memory.
type Local struct {
	eps   []*localEndpoint
	limit itemLimit
}

// NewLocal returns a transport between n workers in this process.
func NewLocal(n int) *Local {
	l := &Local{eps: make([]*localEndpoint, n)}
	for i := range l.eps {
		l.eps[i] = &localEndpoint{net: l, index: i, in: newInbox(), inFlightTo: make([]atomic.Int64, n)}
	}
	return l
}

// SetMaxItemSize makes Send refuse, with an *ItemSizeError, messages
// holding an item over n bytes (key and value); 0, the default, allows
// any. Call it before the first Send.
func (l *Local) SetMaxItemSize(n int) { l.limit = itemLimit(n) }

// Endpoint returns worker i's endpoint.
func (l *Local) Endpoint(i int) Endpoint { return l.eps[i] }

// Close makes further sends fail.
func (l *Local) Close() {
	for _, ep := range l.eps {
		ep.in.close()
	}
}

type localEndpoint struct {
	net        *Local
	index      int
	in         inbox
	inFlight   atomic.Int64
	inFlightTo []atomic.Int64 // by receiver
}

func (e *localEndpoint) Send(to int, m Message) error {
	m.From = e.index
	if err := e.net.limit.check(to, &m); err != nil {
		return err
	}
	dst := e.net.eps[to]
	e.inFlight.Add(int64(m.Size()))
	e.inFlightTo[to].Add(int64(m.Size()))
	return dst.in.put(m)
}

func (e *localEndpoint) Receive(buf []Message) []Message {
	return e.in.drain(buf)
}

func (e *localEndpoint) Ready() <-chan struct{} { return e.in.ready }

func (e *localEndpoint) Consumed(from int, size int) {
	src := e.net.eps[from]
	src.inFlight.Add(-int64(size))
	src.inFlightTo[e.index].Add(-int64(size))
	src.in.signal()
}

func (e *localEndpoint) InFlight() int64 { return e.inFlight.Load() }

func (e *localEndpoint) InFlightTo(to int) int64 { return e.inFlightTo[to].Load() }
