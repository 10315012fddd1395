package bx

import (
	"slices"
	"time"
)

// WindowLogic is the state of one window of one key in a Window step
// (Bytewax 0.21's WindowLogic). Each method returns the values to emit
// downstream, which the step pairs with the key and the window id.
type WindowLogic[V, W, S any] interface {
	// OnValue receives a value of the window, in timestamp order when the
	// step is ordered.
	OnValue(value V) []W
	// OnMerge takes in the state of original, a window merged into this
	// one (session windows only); original is dropped afterwards.
	OnMerge(original WindowLogic[V, W, S]) []W
	// OnClose is called once when the window closes.
	OnClose() []W
	// Snapshot returns the window's state to resume from.
	Snapshot() S
}

// windowSpec is what every key's logic of one Window step shares.
type windowSpec[V, W, S any] struct {
	clock    Clock[V]
	windower Windower
	builder  func(resume *S) WindowLogic[V, W, S]
	ordered  bool
}

// queued is an on-time item waiting for the watermark to pass it, so
// that items reach the windows in timestamp order.
type queued[V any] struct {
	Value V     `json:"value"`
	TS    int64 `json:"ts"`
}

// windowSnapshot is the resume state of one key of a Window step: its
// clock, its open windows and their logics' states, and the items queued
// for ordering. Closed windows are not in it. It encodes as JSON, so the
// values and window states must too.
type windowSnapshot[V, S any] struct {
	Clock   clockState       `json:"clock"`
	Windows windowerState    `json:"windows"`
	Logics  []windowState[S] `json:"logics"`
	Queue   []queued[V]      `json:"queue,omitempty"`
}

// windowState is one open window's logic state.
type windowState[S any] struct {
	ID    int64 `json:"id"`
	State S     `json:"state"`
}

// windowKeyLogic runs the windows of one key: the StatefulBatchLogic of a
// Window step.
type windowKeyLogic[V, W, S any] struct {
	spec   *windowSpec[V, W, S]
	clock  clockState
	wins   windowerState
	logics map[int64]WindowLogic[V, W, S]
	queue  []queued[V]
	lastWM int64 // the watermark never goes back, whatever the clock says
}

// build makes a key's logic, fresh or from its snapshot.
func (sp *windowSpec[V, W, S]) build(resume *windowSnapshot[V, S]) StatefulBatchLogic[V, windowEvent[V, W], windowSnapshot[V, S]] {
	l := &windowKeyLogic[V, W, S]{spec: sp, clock: newClockState(sp.clock.nowNanos()),
		wins: newWindowerState(), logics: map[int64]WindowLogic[V, W, S]{}, lastWM: minTime}
	if resume == nil {
		return l
	}
	l.clock, l.wins, l.queue = resume.Clock, resume.Windows, resume.Queue
	if l.wins.Open == nil {
		l.wins.Open = map[int64]*windowMeta{}
	}
	for _, ws := range resume.Logics {
		l.logics[ws.ID] = sp.newLogic(&ws.State)
	}
	return l
}

// newLogic builds a window's logic, failing the call if the builder gives
// none.
func (sp *windowSpec[V, W, S]) newLogic(resume *S) WindowLogic[V, W, S] {
	wl := sp.builder(resume)
	if wl == nil {
		panic(ErrNilLogic)
	}
	return wl
}

// advance moves the watermark to wm unless it would go back, and returns
// the watermark.
func (l *windowKeyLogic[V, W, S]) advance(wm int64) int64 {
	l.lastWM = max(l.lastWM, wm)
	return l.lastWM
}

// OnBatch stamps every value: a value older than the watermark is late
// for the windows it would have been in, the others are queued. Then the
// queue is flushed up to the watermark and the windows it passed close.
func (l *windowKeyLogic[V, W, S]) OnBatch(values []V) ([]windowEvent[V, W], bool) {
	now := l.spec.clock.nowNanos()
	var out []windowEvent[V, W]
	wm := l.lastWM
	for _, v := range values {
		var ts int64
		ts, wm = l.spec.clock.stamp(&l.clock, v, now)
		wm = l.advance(wm)
		if ts < wm {
			for _, id := range l.spec.windower.lateFor(ts) {
				out = append(out, windowEvent[V, W]{kind: eventLate, id: id, late: v})
			}
			continue
		}
		l.queue = append(l.queue, queued[V]{Value: v, TS: ts})
	}
	out = l.flush(out, wm)
	return out, l.empty()
}

// OnNotify reads the clock and closes the windows the watermark passed.
func (l *windowKeyLogic[V, W, S]) OnNotify() ([]windowEvent[V, W], bool) {
	wm := l.advance(l.spec.clock.current(l.clock, l.spec.clock.nowNanos()))
	return l.flush(nil, wm), l.empty()
}

// OnEOF closes every window: the watermark is the end of time.
func (l *windowKeyLogic[V, W, S]) OnEOF() ([]windowEvent[V, W], bool) {
	return l.flush(nil, maxTime), l.empty()
}

// empty reports whether the key holds nothing, so it is discarded.
func (l *windowKeyLogic[V, W, S]) empty() bool {
	return len(l.logics) == 0 && len(l.queue) == 0 && l.wins.empty()
}

// flush plays the due queued values into their windows, merges the
// windows the windower merged and closes those the watermark passed.
func (l *windowKeyLogic[V, W, S]) flush(out []windowEvent[V, W], wm int64) []windowEvent[V, W] {
	for _, q := range l.due(wm) {
		for _, id := range l.spec.windower.openFor(&l.wins, q.TS) {
			wl, ok := l.logics[id]
			if !ok {
				wl = l.spec.newLogic(nil)
				l.logics[id] = wl
			}
			out = appendEmits(out, id, wl.OnValue(q.Value))
		}
	}
	out = l.merge(out)
	for _, c := range l.spec.windower.closeFor(&l.wins, wm) {
		if wl, ok := l.logics[c.id]; ok {
			delete(l.logics, c.id)
			out = appendEmits(out, c.id, wl.OnClose())
		}
		out = append(out, windowEvent[V, W]{kind: eventMeta, id: c.id, meta: metadataOf(c.meta)})
	}
	return out
}

// due takes the queued values to play: when ordered, those at or before
// the watermark in timestamp order; otherwise all of them.
func (l *windowKeyLogic[V, W, S]) due(wm int64) []queued[V] {
	if !l.spec.ordered {
		// The caller plays q before anything is queued again, so the
		// queue keeps its array.
		q := l.queue
		l.queue = q[:0]
		return q
	}
	var due, keep []queued[V]
	for _, q := range l.queue {
		if q.TS <= wm {
			due = append(due, q)
		} else {
			keep = append(keep, q)
		}
	}
	l.queue = keep
	slices.SortStableFunc(due, func(a, b queued[V]) int { return cmpInt(a.TS, b.TS) })
	return due
}

// merge folds every window the windower merged into its target.
func (l *windowKeyLogic[V, W, S]) merge(out []windowEvent[V, W]) []windowEvent[V, W] {
	for _, m := range l.wins.merges {
		orig, ok := l.logics[m[0]]
		into, ok2 := l.logics[m[1]]
		if m[0] == m[1] || !ok || !ok2 {
			continue
		}
		delete(l.logics, m[0])
		out = appendEmits(out, m[1], into.OnMerge(orig))
	}
	l.wins.merges = l.wins.merges[:0]
	return out
}

func appendEmits[V, W any](out []windowEvent[V, W], id int64, ws []W) []windowEvent[V, W] {
	for _, w := range ws {
		out = append(out, windowEvent[V, W]{kind: eventEmit, id: id, emit: w})
	}
	return out
}

// NotifyAt is the system time at which the earliest open window closes,
// or the earliest queued value comes due, if the clock will ever get
// there without new items; none when nothing is open or queued.
func (l *windowKeyLogic[V, W, S]) NotifyAt() (time.Time, bool) {
	at, ok := l.spec.windower.nextClose(&l.wins)
	for _, q := range l.queue {
		if !ok || q.TS < at {
			at, ok = q.TS, true
		}
	}
	if !ok {
		return time.Time{}, false
	}
	sys, ok := l.spec.clock.toSystem(l.clock, at)
	if !ok {
		return time.Time{}, false
	}
	return fromNanos(sys), true
}

// Snapshot returns the key's clock, open windows, window states and
// queue, copied.
func (l *windowKeyLogic[V, W, S]) Snapshot() windowSnapshot[V, S] {
	s := windowSnapshot[V, S]{Clock: l.clock, Windows: newWindowerState(), Queue: slices.Clone(l.queue)}
	s.Windows.LastID = l.wins.LastID
	for id, m := range l.wins.Open {
		c := *m
		c.Merged = slices.Clone(m.Merged)
		s.Windows.Open[id] = &c
	}
	for id, wl := range l.logics {
		s.Logics = append(s.Logics, windowState[S]{ID: id, State: wl.Snapshot()})
	}
	slices.SortFunc(s.Logics, func(a, b windowState[S]) int { return cmpInt(a.ID, b.ID) })
	return s
}
