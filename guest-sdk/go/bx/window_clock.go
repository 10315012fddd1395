package bx

import "time"

// Clock is a window operator's sense of time (Bytewax 0.21's Clock): it
// gives every item a timestamp and every key a watermark, the time before
// which no more items are expected. Items older than the watermark are
// late. When the inputs end the watermark jumps to the end of time, so
// every window closes.
//
// Build one with SystemClock or EventClock.
type Clock[V any] struct {
	ts   func(V) time.Time // nil for the system clock
	wait time.Duration
	now  func() time.Time
}

// SystemClock stamps every item with the system time when it is
// processed; the watermark is the system time, so no item is ever late.
// The system time is the host's clock, passed with every call.
func SystemClock[V any]() Clock[V] { return Clock[V]{} }

// EventClock reads each item's timestamp with tsGetter. A key's watermark
// is the largest timestamp seen for it minus waitForSystemDuration, plus
// the system time passed since that item arrived: an item is on time if it
// arrives no later than waitForSystemDuration after a newer one, and
// windows close once the system clock says no more items are due, even if
// none arrive. The system time is the host's clock.
func EventClock[V any](tsGetter func(V) time.Time, waitForSystemDuration time.Duration) Clock[V] {
	if tsGetter == nil {
		raise("%w: EventClock needs a timestamp getter", ErrNil)
	}
	if waitForSystemDuration < 0 {
		raise("%w: EventClock needs a wait of zero or more, got %s", ErrOperatorParam, waitForSystemDuration)
	}
	return Clock[V]{ts: tsGetter, wait: waitForSystemDuration}
}

// WithNow returns the clock reading the system time from now instead of
// the host's clock (Bytewax's now_getter), for tests and replays.
func (c Clock[V]) WithNow(now func() time.Time) Clock[V] {
	c.now = now
	return c
}

// nowNanos reads the clock's system time.
func (c Clock[V]) nowNanos() int64 {
	if c.now != nil {
		return toNanos(c.now())
	}
	return toNanos(hostNow())
}

// clockState is what a key keeps of an event clock: the watermark as of
// the system time the newest item arrived. The system clock keeps nothing.
type clockState struct {
	Base     int64 `json:"base"`    // watermark when SysOfMax was now
	SysOfMax int64 `json:"sys_max"` // system time the newest item arrived
}

// newClockState starts a key's clock at the beginning of time.
func newClockState(sysNow int64) clockState { return clockState{Base: minTime, SysOfMax: sysNow} }

// watermark is the event clock's watermark at system time sysNow: the base
// plus the system time passed since the newest item.
func (s clockState) watermark(sysNow int64) int64 {
	return addSat(s.Base, max(subSat(sysNow, s.SysOfMax), 0))
}

// stamp returns an item's timestamp and the watermark after it at system
// time sysNow, advancing the clock when the item is the newest so far by
// enough to move the watermark.
func (c Clock[V]) stamp(s *clockState, v V, sysNow int64) (ts, wm int64) {
	if c.ts == nil {
		return sysNow, sysNow
	}
	ts = toNanos(c.ts(v))
	wm = s.watermark(sysNow)
	if base := subSat(ts, int64(c.wait)); base > wm {
		s.Base, s.SysOfMax = base, sysNow
		return ts, base
	}
	return ts, wm
}

// current is the watermark when no item arrives, at system time sysNow.
func (c Clock[V]) current(s clockState, sysNow int64) int64 {
	if c.ts == nil {
		return sysNow
	}
	return s.watermark(sysNow)
}

// toSystem returns the system time at which the watermark reaches the
// event time t, if it ever does without new items.
func (c Clock[V]) toSystem(s clockState, t int64) (int64, bool) {
	if c.ts == nil {
		return t, true
	}
	if s.Base == minTime || t == maxTime {
		return 0, false
	}
	at := addSat(s.SysOfMax, subSat(t, s.Base))
	return at, at != maxTime
}
