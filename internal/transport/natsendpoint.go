package transport

import (
	"encoding/binary"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
)

// ackBytes is how much consumed credit an endpoint holds back before it
// publishes acks right away; below it, acks go out on the next Receive or
// after ackDelay, whichever comes first.
const ackBytes = 64 << 10

// ackDelay bounds how long consumed credit waits for a Receive.
const ackDelay = 2 * time.Millisecond

// natsEndpoint is one local worker of a NATS transport. Fields are owned
// as marked: the worker's goroutine (Send), the data subscription's
// handler goroutine (onData), the ack subscription's (onAck), or a mutex.
type natsEndpoint struct {
	t        *NATS
	index    int
	in       inbox
	inFlight atomic.Int64
	sentTo   []atomic.Int64 // by receiver: its part of inFlight
	seq      []uint64       // Send: next sequence number per receiver
	buf      []byte         // Send: frame buffer
	chunk    []byte         // Send: chunk buffer
	data     *nats.Subscription
	expect   []uint64   // onData: next sequence number per sender
	partial  []assembly // onData: frame being reassembled per sender
	acked    []uint64   // onAck: credit acked so far per receiver
	credit   struct {
		sync.Mutex
		consumed []uint64 // cumulative bytes consumed per remote sender
		sent     []uint64 // consumed as of the last ack per remote sender
		dirty    []int    // senders whose consumed is not acked yet
		pending  int      // bytes consumed and not acked yet
		timer    *time.Timer
		armed    bool
	}
}

func newNATSEndpoint(t *NATS, index int) *natsEndpoint {
	e := &natsEndpoint{
		t: t, index: index, in: newInbox(),
		seq: make([]uint64, t.total), expect: make([]uint64, t.total), acked: make([]uint64, t.total),
		partial: make([]assembly, t.total), sentTo: make([]atomic.Int64, t.total),
	}
	e.credit.consumed = make([]uint64, t.total)
	e.credit.sent = make([]uint64, t.total)
	e.credit.timer = time.AfterFunc(time.Hour, e.flushCredit)
	e.credit.timer.Stop()
	return e
}

// Send delivers m to a local worker in memory, or publishes it to a
// remote one. It returns the transport's failure once there is one.
func (e *natsEndpoint) Send(to int, m Message) error {
	m.From = e.index
	if err := e.t.failed(); err != nil {
		return err
	}
	if to < 0 || to >= e.t.total {
		return fmt.Errorf("%w: send to worker %d of %d", ErrConfig, to, e.t.total)
	}
	if err := e.t.limit.check(to, &m); err != nil {
		return err
	}
	e.inFlight.Add(int64(m.Size()))
	e.sentTo[to].Add(int64(m.Size()))
	if e.t.local(to) {
		return e.t.eps[to-e.t.first].in.put(m)
	}
	if e.t.closed() {
		return ErrClosed
	}
	e.buf = appendFrame(e.buf[:0], &frame{To: to, Seq: e.seq[to], Msg: m})
	e.seq[to]++
	if err := e.publish(e.t.dataSubj[to]); err != nil {
		err = fmt.Errorf("transport: send from worker %d to worker %d: %w", e.index, to, err)
		e.t.fail(err)
		return err
	}
	return nil
}

// largeFrame is the size of frame buffer an endpoint does not keep
// between sends.
const largeFrame = 4 << 20

// publish publishes the frame in e.buf on subj: in one message, or in
// chunks when it is over the connection's largest payload.
func (e *natsEndpoint) publish(subj string) error {
	if len(e.buf) > largeFrame {
		defer func() { e.buf, e.chunk = nil, nil }()
	}
	if len(e.buf) <= e.t.maxPayload {
		return e.t.nc.Publish(subj, e.buf)
	}
	var err error
	e.chunk, err = chunks(e.chunk, e.buf, e.index, e.t.maxPayload-maxChunkHeader, func(b []byte) error {
		return e.t.nc.Publish(subj, b)
	})
	return err
}

// Receive returns credit consumed so far to remote senders, checks that
// the NATS client dropped nothing, and appends the arrived messages.
func (e *natsEndpoint) Receive(buf []Message) []Message {
	e.flushCredit()
	e.checkDropped()
	return e.in.drain(buf)
}

// checkDropped fails the transport if the client dropped messages for the
// endpoint's data subscription (it must not, without pending limits).
func (e *natsEndpoint) checkDropped() {
	if n, err := e.data.Dropped(); err == nil && n > 0 {
		e.t.fail(&LossError{From: -1, To: e.index, N: n})
	}
}

// Ready is signalled when messages or credit may have arrived, or the
// transport failed.
func (e *natsEndpoint) Ready() <-chan struct{} { return e.in.ready }

// InFlight is the number of bytes sent, locally or remotely, that their
// receivers have not consumed yet.
func (e *natsEndpoint) InFlight() int64 { return e.inFlight.Load() }

// InFlightTo is the part of InFlight sent to worker to; a remote
// receiver's part falls when its ack arrives.
func (e *natsEndpoint) InFlightTo(to int) int64 { return e.sentTo[to].Load() }

// Consumed returns credit to a local sender at once, and to a remote one
// with the next ack.
func (e *natsEndpoint) Consumed(from int, size int) {
	if e.t.local(from) {
		src := e.t.eps[from-e.t.first]
		src.inFlight.Add(-int64(size))
		src.sentTo[e.index].Add(-int64(size))
		src.in.signal()
		return
	}
	if !e.t.remote(from) || size <= 0 {
		return
	}
	c := &e.credit
	c.Lock()
	defer c.Unlock()
	if c.consumed[from] == c.sent[from] {
		c.dirty = append(c.dirty, from)
	}
	c.consumed[from] += uint64(size)
	c.pending += size
	switch {
	case c.pending >= ackBytes:
		e.flushCreditLocked()
	case !c.armed:
		c.armed = true
		c.timer.Reset(ackDelay)
	}
}

// flushCredit publishes acks for all consumed credit.
func (e *natsEndpoint) flushCredit() {
	e.credit.Lock()
	e.flushCreditLocked()
	e.credit.Unlock()
}

// flushCreditLocked publishes one ack per sender with unacked credit. The
// credit lock must be held.
func (e *natsEndpoint) flushCreditLocked() {
	c := &e.credit
	var buf [2*binary.MaxVarintLen64 + 1]byte
	for _, from := range c.dirty {
		c.sent[from] = c.consumed[from]
		b := appendAck(buf[:0], ack{Receiver: e.index, Total: c.consumed[from]})
		if e.t.closed() {
			continue
		}
		if err := e.t.nc.Publish(e.t.ackSubj[from], b); err != nil {
			e.t.fail(fmt.Errorf("transport: return credit from worker %d to worker %d: %w", e.index, from, err))
		}
	}
	c.dirty = c.dirty[:0]
	c.pending = 0
	if c.armed {
		c.armed = false
		c.timer.Stop()
	}
}

// onData takes a frame, or a chunk of one, from a remote worker.
func (e *natsEndpoint) onData(msg *nats.Msg) {
	b := msg.Data
	if len(b) > 0 && b[0] == chunkVersion {
		var err error
		if b, err = e.reassemble(b); err != nil {
			e.t.fail(fmt.Errorf("transport: message to worker %d: %w", e.index, err))
		}
		if b == nil {
			return
		}
	}
	e.onFrame(b)
}

// assembly is a frame being reassembled from its chunks.
type assembly struct {
	frame []byte
	size  int
}

// reassemble adds a chunk to its sender's frame and returns the frame
// once it is whole, else nil.
func (e *natsEndpoint) reassemble(b []byte) ([]byte, error) {
	c, err := decodeChunk(b)
	if err != nil {
		return nil, err
	}
	if !e.t.remote(c.From) {
		return nil, fmt.Errorf("%w: chunk from worker %d arrived at worker %d", ErrWire, c.From, e.index)
	}
	a := &e.partial[c.From]
	if c.Offset != len(a.frame) || (c.Offset > 0 && c.Size != a.size) {
		return nil, fmt.Errorf("%w: chunk at %d of a %d-byte frame from worker %d, want one at %d of %d",
			ErrWire, c.Offset, c.Size, c.From, len(a.frame), a.size)
	}
	a.frame, a.size = append(a.frame, c.Data...), c.Size
	if len(a.frame) < a.size {
		return nil, nil
	}
	frame := a.frame
	*a = assembly{}
	return frame, nil
}

// onFrame decodes a frame from a remote worker, checks its sequence
// number and queues its message.
func (e *natsEndpoint) onFrame(b []byte) {
	f, err := decodeFrame(b)
	if err != nil {
		e.t.fail(fmt.Errorf("transport: message to worker %d: %w", e.index, err))
		return
	}
	from := f.Msg.From
	if f.To != e.index || !e.t.remote(from) {
		e.t.fail(fmt.Errorf("%w: message from worker %d to worker %d arrived at worker %d", ErrWire, from, f.To, e.index))
		return
	}
	if want := e.expect[from]; f.Seq != want {
		if f.Seq < want {
			e.t.fail(fmt.Errorf("%w: message %d from worker %d to worker %d after message %d", ErrOrder, f.Seq, from, e.index, want-1))
			return
		}
		e.t.fail(&LossError{From: from, To: e.index, N: int(min(f.Seq-want, maxIndex))})
	}
	e.expect[from] = f.Seq + 1
	_ = e.in.put(f.Msg) // fails only after Close
}

// onAck lowers InFlight by the credit a remote receiver returned.
func (e *natsEndpoint) onAck(msg *nats.Msg) {
	a, err := decodeAck(msg.Data)
	if err != nil {
		e.t.fail(fmt.Errorf("transport: ack to worker %d: %w", e.index, err))
		return
	}
	if !e.t.remote(a.Receiver) {
		e.t.fail(fmt.Errorf("%w: ack from worker %d to worker %d", ErrWire, a.Receiver, e.index))
		return
	}
	if a.Total <= e.acked[a.Receiver] {
		return
	}
	e.inFlight.Add(-int64(a.Total - e.acked[a.Receiver]))
	e.sentTo[a.Receiver].Add(-int64(a.Total - e.acked[a.Receiver]))
	e.acked[a.Receiver] = a.Total
	e.in.signal()
}

// close makes further sends to the endpoint fail and stops its ack timer.
func (e *natsEndpoint) close() {
	e.in.close()
	e.credit.Lock()
	e.credit.timer.Stop()
	e.credit.armed = false
	e.credit.Unlock()
}
