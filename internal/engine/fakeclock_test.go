package engine

import (
	"sync"
	"time"

	"github.com/bxwasm/bxwasm/internal/transport"
)

// fakeClock is a Clock that moves only when told to. It also counts the
// messages the workers sent and have not received yet (through endpoints
// wrapped by countEndpoint), so that a driver can tell when every worker
// waits for time and nothing else: the moment to move the clock.
type fakeClock struct {
	mu struct {
		sync.Mutex
		now     time.Time
		timers  map[*fakeTimer]struct{} // pending, not stopped or fired
		unread  int                     // messages sent, not yet received
		stopped int                     // timers stopped or fired so far
	}
}

func newFakeClock(t0 time.Time) *fakeClock {
	c := &fakeClock{}
	c.mu.now, c.mu.timers = t0, map[*fakeTimer]struct{}{}
	return c
}

// Now is the fake time.
func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.mu.now
}

// NewTimer returns a timer that fires when the clock reaches now+d.
func (c *fakeClock) NewTimer(d time.Duration) Timer {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &fakeTimer{clk: c, at: c.mu.now.Add(d), c: make(chan time.Time, 1)}
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
			c.mu.stopped++
			t.c <- c.mu.now
		}
	}
}

// advance moves the clock by d.
func (c *fakeClock) advance(d time.Duration) { c.set(c.Now().Add(d)) }

// idle reports, when exactly waiters timers are pending and no message is
// unread, the earliest pending timer: every worker waits for time.
func (c *fakeClock) idle(waiters int) (time.Time, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.mu.timers) != waiters || c.mu.unread != 0 {
		return time.Time{}, false
	}
	var next time.Time
	for t := range c.mu.timers {
		if next.IsZero() || t.at.Before(next) {
			next = t.at
		}
	}
	return next, true
}

// stops is how many timers were stopped or fired so far.
func (c *fakeClock) stops() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.mu.stopped
}

func (c *fakeClock) unread(n int) {
	c.mu.Lock()
	c.mu.unread += n
	c.mu.Unlock()
}

type fakeTimer struct {
	clk *fakeClock
	at  time.Time
	c   chan time.Time
}

func (t *fakeTimer) C() <-chan time.Time { return t.c }

func (t *fakeTimer) Stop() bool {
	t.clk.mu.Lock()
	defer t.clk.mu.Unlock()
	_, ok := t.clk.mu.timers[t]
	if ok {
		delete(t.clk.mu.timers, t)
		t.clk.mu.stopped++
	}
	return ok
}

// countEndpoint tells the clock about every message sent and received.
type countEndpoint struct {
	transport.Endpoint
	clk *fakeClock
}

func (e countEndpoint) Send(to int, m transport.Message) error {
	e.clk.unread(1)
	return e.Endpoint.Send(to, m)
}

func (e countEndpoint) Receive(buf []transport.Message) []transport.Message {
	n := len(buf)
	buf = e.Endpoint.Receive(buf)
	e.clk.unread(-(len(buf) - n))
	return buf
}
