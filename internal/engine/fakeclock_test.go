package engine

import (
	"sync"
	"time"

	"github.com/bxwasm/bxwasm/internal/transport"
)

// fakeClock is a Clock that moves only when told to. It also counts, by
// receiving worker, the messages sent and not received yet (through
// endpoints wrapped by countEndpoint), so that a driver can tell when every
// worker waits for time and nothing else: the moment to move the clock.
type fakeClock struct {
	mu struct {
		sync.Mutex
		now    time.Time
		timers map[*fakeTimer]struct{} // pending, not stopped or fired
		unread map[int]int             // by receiver: messages sent, not yet received
	}
}

func newFakeClock(t0 time.Time) *fakeClock {
	c := &fakeClock{}
	c.mu.now, c.mu.timers, c.mu.unread = t0, map[*fakeTimer]struct{}{}, map[int]int{}
	return c
}

// Now is the fake time.
func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.mu.now
}

// NewTimer returns a timer that fires when the clock reaches now+d.
func (c *fakeClock) NewTimer(d time.Duration) Timer { return c.newTimer(0, d) }

// as is the clock as process proc sees it: its timers are the process's.
func (c *fakeClock) as(proc int) Clock { return procClock{c, proc} }

type procClock struct {
	*fakeClock
	proc int
}

func (c procClock) NewTimer(d time.Duration) Timer { return c.newTimer(c.proc, d) }

func (c *fakeClock) newTimer(proc int, d time.Duration) Timer {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &fakeTimer{clk: c, proc: proc, at: c.mu.now.Add(d), c: make(chan time.Time, 1)}
	if d <= 0 {
		t.c <- c.mu.now
		return t
	}
	c.mu.timers[t] = struct{}{}
	return t
}

// set moves the clock to now (never back) and fires every timer due.
func (c *fakeClock) set(now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if now.After(c.mu.now) {
		c.mu.now = now
	}
	for t := range c.mu.timers {
		if !t.at.After(c.mu.now) {
			delete(c.mu.timers, t)
			t.c <- c.mu.now
		}
	}
}

// advance moves the clock by d.
func (c *fakeClock) advance(d time.Duration) { c.set(c.Now().Add(d)) }

// idle reports, when exactly one timer per worker of live is pending and
// no message to them is unread, the earliest pending timer: every live
// worker waits for time. Messages to workers not running yet wait for them.
func (c *fakeClock) idle(live []int) (time.Time, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.mu.timers) != len(live) {
		return time.Time{}, false
	}
	for _, w := range live {
		if c.mu.unread[w] != 0 {
			return time.Time{}, false
		}
	}
	var next time.Time
	for t := range c.mu.timers {
		if next.IsZero() || t.at.Before(next) {
			next = t.at
		}
	}
	return next, true
}

// waits is the pending timers of process proc: one per worker of it that
// waits, when idle.
func (c *fakeClock) waits(proc int) []*fakeTimer {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []*fakeTimer
	for t := range c.mu.timers {
		if t.proc == proc {
			out = append(out, t)
		}
	}
	return out
}

// pending reports whether any of timers is still pending.
func (c *fakeClock) pending(timers []*fakeTimer) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, t := range timers {
		if _, ok := c.mu.timers[t]; ok {
			return true
		}
	}
	return false
}

func (c *fakeClock) unread(worker, n int) {
	c.mu.Lock()
	c.mu.unread[worker] += n
	c.mu.Unlock()
}

// upTo is workers 0 to n-1.
func upTo(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}

type fakeTimer struct {
	clk  *fakeClock
	proc int // the process whose worker made it
	at   time.Time
	c    chan time.Time
}

func (t *fakeTimer) C() <-chan time.Time { return t.c }

func (t *fakeTimer) Stop() bool {
	t.clk.mu.Lock()
	defer t.clk.mu.Unlock()
	_, ok := t.clk.mu.timers[t]
	if ok {
		delete(t.clk.mu.timers, t)
	}
	return ok
}

// countEndpoint tells the clock about every message sent and received by
// worker self.
type countEndpoint struct {
	transport.Endpoint
	self int
	clk  *fakeClock
}

func (e countEndpoint) Send(to int, m transport.Message) error {
	e.clk.unread(to, 1)
	return e.Endpoint.Send(to, m)
}

func (e countEndpoint) Receive(buf []transport.Message) []transport.Message {
	n := len(buf)
	buf = e.Endpoint.Receive(buf)
	e.clk.unread(e.self, -(len(buf) - n))
	return buf
}
