package bx

import (
	"slices"
	"time"
)

// LateSessionID is the window id late items of a SessionWindower are
// reported with: a late item cannot tell which session it missed.
const LateSessionID int64 = -1

// sessionWindower groups a key's items into sessions: an item within gap
// of a session joins it, and an item that comes within gap of two
// sessions merges them.
type sessionWindower struct{ gap int64 }

// SessionWindower makes a window per burst of activity of a key: a
// session lasts from its first item to its last and closes once the
// watermark is more than gap past its last item. An item within gap of two
// sessions merges them into the older one; the Meta of the merged session
// lists the ids merged into it. Session ids count the sessions of a key
// from 0; a key with no open session is forgotten (unlike Bytewax, which
// keeps every key forever), so its ids start again from 0.
func SessionWindower(gap time.Duration) Windower {
	if gap < 0 {
		raise("%w: SessionWindower needs a gap of zero or more, got %s", ErrOperatorParam, gap)
	}
	return sessionWindower{gap: int64(gap)}
}

// openFor puts ts in the first session (by id) it falls in or within gap
// of, stretching the session to ts and merging the sessions that now
// touch; otherwise it opens a new session.
func (w sessionWindower) openFor(st *windowerState, ts int64) []int64 {
	for _, id := range sortedIDs(st) {
		m := st.Open[id]
		switch {
		case m.Open <= ts && ts <= m.Close:
			return st.result(id)
		case ts < m.Open && m.Open-ts <= w.gap:
			m.Open = ts
		case ts > m.Close && ts-m.Close <= w.gap:
			m.Close = ts
		default:
			continue
		}
		w.findMerges(st)
		return st.result(id)
	}
	st.LastID++
	st.Open[st.LastID] = &windowMeta{Open: ts, Close: ts}
	return st.result(st.LastID)
}

// result returns id as openFor's result, in st's scratch slice.
func (st *windowerState) result(id int64) []int64 {
	st.ids = append(st.ids[:0], id)
	return st.ids
}

// sortedIDs returns the ids of the open sessions in the order they were
// opened.
func sortedIDs(st *windowerState) []int64 {
	ids := make([]int64, 0, len(st.Open))
	for id := range st.Open {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// findMerges merges every session that starts within gap of the end of
// the one before it (by open time) into that one, queuing the merges.
func (w sessionWindower) findMerges(st *windowerState) {
	ids := sortedIDs(st)
	slices.SortStableFunc(ids, func(a, b int64) int { return cmpInt(st.Open[a].Open, st.Open[b].Open) })
	last := ids[0]
	for _, id := range ids[1:] {
		lm, m := st.Open[last], st.Open[id]
		if m.Open-lm.Close > w.gap {
			last = id
			continue
		}
		lm.Close = max(lm.Close, m.Close)
		lm.Merged = append(append(lm.Merged, id), m.Merged...)
		slices.Sort(lm.Merged)
		st.merges = append(st.merges, [2]int64{id, last})
		delete(st.Open, id)
	}
}

func (w sessionWindower) lateFor(int64) []int64 { return []int64{LateSessionID} }

// closeFor closes the sessions whose last item is more than gap before
// the watermark.
func (w sessionWindower) closeFor(st *windowerState, wm int64) []closedWindow {
	after := subSat(wm, w.gap)
	return st.closeWhere(func(m *windowMeta) bool { return m.Close < after })
}

// nextClose is the first watermark past the earliest session end plus
// gap: the session closes only once the watermark is beyond it.
func (w sessionWindower) nextClose(st *windowerState) (int64, bool) {
	c, ok := st.minClose()
	return addSat(addSat(c, w.gap), 1), ok
}
