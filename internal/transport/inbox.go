package transport

import "sync"

// inbox is a worker's queue of arrived messages with its wake-up signal,
// shared by the transports' endpoints: senders put, the owner drains.
type inbox struct {
	ready chan struct{}
	mu    struct {
		sync.Mutex
		queue  []Message
		closed bool
	}
}

func newInbox() inbox { return inbox{ready: make(chan struct{}, 1)} }

// put queues m and wakes the owner; it fails once the inbox is closed.
func (b *inbox) put(m Message) error {
	b.mu.Lock()
	if b.mu.closed {
		b.mu.Unlock()
		return ErrClosed
	}
	b.mu.queue = append(b.mu.queue, m)
	b.mu.Unlock()
	b.signal()
	return nil
}

// drain appends every queued message to buf.
func (b *inbox) drain(buf []Message) []Message {
	b.mu.Lock()
	buf = append(buf, b.mu.queue...)
	clear(b.mu.queue)
	b.mu.queue = b.mu.queue[:0]
	b.mu.Unlock()
	return buf
}

// close makes further puts fail.
func (b *inbox) close() {
	b.mu.Lock()
	b.mu.closed = true
	b.mu.Unlock()
}

// signal wakes the owner if it is not already due to wake.
func (b *inbox) signal() {
	select {
	case b.ready <- struct{}{}:
	default:
	}
}
