package cluster

import "time"

// liveness decides which peers are lost: a peer is lost when it has not been
// heard from for longer than lostAfter and has not said it is done. It has no
// clock and no goroutines; the mesh passes the time in.
type liveness struct {
	self      int
	lostAfter time.Duration
	last      []time.Time // when each process was last heard from
	done      []bool      // processes that finished normally
}

// newLiveness starts tracking n processes, all heard from at now.
func newLiveness(self, n int, lostAfter time.Duration, now time.Time) *liveness {
	l := &liveness{self: self, lostAfter: lostAfter, last: make([]time.Time, n), done: make([]bool, n)}
	for i := range l.last {
		l.last[i] = now
	}
	return l
}

// heard records a message from process p at now.
func (l *liveness) heard(p int, now time.Time) {
	if now.After(l.last[p]) {
		l.last[p] = now
	}
}

// finished records that process p finished normally: it is never lost.
func (l *liveness) finished(p int) { l.done[p] = true }

// lost returns the lowest-numbered peer silent for longer than lostAfter
// at now.
func (l *liveness) lost(now time.Time) (int, bool) {
	for p, last := range l.last {
		if p != l.self && !l.done[p] && now.Sub(last) > l.lostAfter {
			return p, true
		}
	}
	return 0, false
}

// heardAll counts every process as heard from at now: used when tracking
// starts in earnest (after joining) and after this process was cut off,
// when silence says nothing about the others.
func (l *liveness) heardAll(now time.Time) {
	for p := range l.last {
		l.heard(p, now)
	}
}
