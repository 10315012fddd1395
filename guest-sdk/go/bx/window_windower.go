package bx

import (
	"math"
	"math/big"
	"slices"
	"time"
)

// Windower says which windows an item belongs to and when they close
// (Bytewax 0.21's Windower). Build one with TumblingWindower,
// SlidingWindower or SessionWindower. Its methods work on a key's
// windowerState, so the windower itself holds no state.
type Windower interface {
	// openFor opens the windows an on-time item at ts belongs to and
	// returns their ids, in st's scratch slice: valid until the next
	// openFor on st.
	openFor(st *windowerState, ts int64) []int64
	// lateFor returns the ids of the windows a late item at ts would have
	// been in, without opening them.
	lateFor(ts int64) []int64
	// closeFor removes and returns the windows the watermark wm closes,
	// in order of close time.
	closeFor(st *windowerState, wm int64) []closedWindow
	// nextClose is the earliest watermark that closes an open window.
	nextClose(st *windowerState) (int64, bool)
}

// windowerState is what a key keeps of its open windows.
type windowerState struct {
	Open   map[int64]*windowMeta `json:"open"`
	LastID int64                 `json:"last_id"` // the last session id handed out
	merges [][2]int64            // (original, target) found this call
	ids    []int64               // openFor's result, reused per call
}

// windowMeta is an open window's bounds (Unix nanoseconds) and the ids of
// the sessions merged into it.
type windowMeta struct {
	Open   int64   `json:"open"`
	Close  int64   `json:"close"`
	Merged []int64 `json:"merged,omitempty"`
}

// closedWindow is a window closeFor removed.
type closedWindow struct {
	id   int64
	meta windowMeta
}

func newWindowerState() windowerState {
	return windowerState{Open: map[int64]*windowMeta{}, LastID: -1}
}

// empty reports whether no window is open.
func (st *windowerState) empty() bool { return len(st.Open) == 0 }

// closeWhere removes the open windows that done says are closed, in order
// of close time then id.
func (st *windowerState) closeWhere(done func(m *windowMeta) bool) []closedWindow {
	var out []closedWindow
	for id, m := range st.Open {
		if done(m) {
			out = append(out, closedWindow{id, *m})
		}
	}
	for _, c := range out {
		delete(st.Open, c.id)
	}
	slices.SortFunc(out, func(a, b closedWindow) int {
		if a.meta.Close != b.meta.Close {
			return cmpInt(a.meta.Close, b.meta.Close)
		}
		return cmpInt(a.id, b.id)
	})
	return out
}

// minClose is the earliest close time of the open windows.
func (st *windowerState) minClose() (int64, bool) {
	first, at := true, int64(0)
	for _, m := range st.Open {
		if first || m.Close < at {
			first, at = false, m.Close
		}
	}
	return at, !first
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// slidingWindower is TumblingWindower and SlidingWindower. Window i opens
// at align + (i-base)*offset and lasts length; align is the first window
// start at or before the Unix epoch, and base its id counted from the
// caller's alignTo, so ids are computed arithmetically for any alignTo.
type slidingWindower struct {
	length, offset int64
	align, base    int64
}

// TumblingWindower makes windows of the given length, one after the
// other, with one starting at alignTo: every item is in exactly one.
// Window ids count windows from alignTo (the window starting there is 0).
// A window includes its open time and excludes its close time.
func TumblingWindower(length time.Duration, alignTo time.Time) Windower {
	return newSliding("TumblingWindower", length, length, alignTo)
}

// SlidingWindower makes windows of the given length, one starting every
// offset, with one starting at alignTo; offset must not exceed length (no
// gaps), and an item is in length/offset windows, rounded up or down.
// Window ids count offsets from alignTo.
func SlidingWindower(length, offset time.Duration, alignTo time.Time) Windower {
	if offset > length {
		raise("%w: SlidingWindower offset %s is longer than length %s: items between windows would be lost", ErrOperatorParam, offset, length)
	}
	return newSliding("SlidingWindower", length, offset, alignTo)
}

func newSliding(op string, length, offset time.Duration, alignTo time.Time) *slidingWindower {
	if length <= 0 || offset <= 0 {
		raise("%w: %s needs a length and offset above zero, got %s and %s", ErrOperatorParam, op, length, offset)
	}
	align, base, ok := alignNear(alignTo, int64(offset))
	if !ok {
		raise("%w: %s alignTo %s is too far from today for windows of %s: ids would not fit an int64", ErrOperatorParam, op, alignTo, offset)
	}
	return &slidingWindower{length: int64(length), offset: int64(offset), align: align, base: base}
}

// alignNear finds the window start at or before the Unix epoch that is a
// whole number of offsets from alignTo, and that number: computed once
// with big integers, so alignTo may be any time.
func alignNear(alignTo time.Time, offset int64) (align, base int64, ok bool) {
	at := new(big.Int).Mul(big.NewInt(alignTo.Unix()), big.NewInt(int64(time.Second)))
	at.Add(at, big.NewInt(int64(alignTo.Nanosecond())))
	k := new(big.Int).Neg(at)
	k.Div(k, big.NewInt(offset)) // Euclidean: floor for a positive divisor
	if !k.IsInt64() || k.Int64() == math.MinInt64 {
		return 0, 0, false
	}
	at.Add(at, new(big.Int).Mul(k, big.NewInt(offset)))
	return at.Int64(), k.Int64(), true
}

// ids returns the first and last id of the windows holding ts.
func (w *slidingWindower) ids(ts int64) (first, last int64) {
	since := subSat(ts, w.align)
	return floorDiv(subSat(since, w.length), w.offset) + 1 + w.base, floorDiv(since, w.offset) + w.base
}

// meta returns the bounds of window id.
func (w *slidingWindower) meta(id int64) windowMeta {
	open := w.align
	if n := id - w.base; n != 0 {
		open = addSat(w.align, mulSat(n, w.offset))
	}
	return windowMeta{Open: open, Close: addSat(open, w.length)}
}

// mulSat returns a*b (b > 0), saturating.
func mulSat(a, b int64) int64 {
	if a > maxTime/b {
		return maxTime
	}
	if a < minTime/b {
		return minTime
	}
	return a * b
}

func (w *slidingWindower) openFor(st *windowerState, ts int64) []int64 {
	first, last := w.ids(ts)
	st.ids = st.ids[:0]
	for id := first; id <= last; id++ {
		if _, ok := st.Open[id]; !ok {
			m := w.meta(id)
			st.Open[id] = &m
		}
		st.ids = append(st.ids, id)
	}
	return st.ids
}

func (w *slidingWindower) lateFor(ts int64) []int64 {
	first, last := w.ids(ts)
	out := make([]int64, 0, last-first+1)
	for id := first; id <= last; id++ {
		out = append(out, id)
	}
	return out
}

func (w *slidingWindower) closeFor(st *windowerState, wm int64) []closedWindow {
	return st.closeWhere(func(m *windowMeta) bool { return m.Close <= wm })
}

func (w *slidingWindower) nextClose(st *windowerState) (int64, bool) { return st.minClose() }
