package engine

import "time"

// Clock is where the engine reads the time: epoch ticks, notify_at timers,
// the Now of guest calls and source wake-ups all come from it. Config.Clock
// defaults to the wall clock; tests pass a fake one to drive a run through
// time without sleeping.
type Clock interface {
	// Now is the current time.
	Now() time.Time
	// NewTimer returns a timer that fires once d has passed on this clock.
	NewTimer(d time.Duration) Timer
}

// Timer is a one-shot timer of a Clock.
type Timer interface {
	// C receives the time once the timer fires.
	C() <-chan time.Time
	// Stop releases the timer; it reports whether the timer had not fired.
	Stop() bool
}

// WallClock is the real clock: time.Now and time.NewTimer.
type WallClock struct{}

// Now returns time.Now().
func (WallClock) Now() time.Time { return time.Now() }

// NewTimer returns a time.Timer of d.
func (WallClock) NewTimer(d time.Duration) Timer { return wallTimer{time.NewTimer(d)} }

type wallTimer struct{ t *time.Timer }

func (w wallTimer) C() <-chan time.Time { return w.t.C }
func (w wallTimer) Stop() bool          { return w.t.Stop() }
