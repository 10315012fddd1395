package bx

import (
	"fmt"
	"maps"
	"slices"
	"time"
)

// Join gathers the values of a key across sides, keyed streams of one
// value type, into rows with one entry per side in argument order (nil
// for a side without a value), as Bytewax 0.21's join: insert says what
// a side keeps when it sees more than one value, emit when rows are
// emitted. A key is forgotten when it holds no value (after a complete
// row, or when the inputs end in JoinFinal). Its core steps are
// "<id>.add_names.label_<n>.map.flat_map_batch" per side,
// "<id>.add_names.merge" and "<id>.join.stateful_batch".
func Join[V any](id string, insert JoinInsertMode, emit JoinEmitMode, sides ...*Stream[KV[V]]) *Stream[KV[[]*V]] {
	checkJoinModes("Join", id, insert, emit, len(sides))
	sc, labeled := labelMerge(id, sides)
	n := len(sides)
	rows := StatefulBatch("join", labeled, func(resume *joinState[V]) StatefulBatchLogic[JoinItem[V], []*V, joinState[V]] {
		l := &joinLogic[V]{insert: insert, emit: emit, state: newJoinState[V](n)}
		if resume != nil && len(resume.Seen) == n {
			l.state = *resume
		}
		return l
	})
	return Exit(sc, rows)
}

// JoinNamed is Join with named sides: rows are maps from side name to
// value, without the sides that have none. Its core steps are those of
// Join, the sides labelled in the sorted order of their names.
func JoinNamed[V any](id string, insert JoinInsertMode, emit JoinEmitMode, sides map[string]*Stream[KV[V]]) *Stream[KV[map[string]V]] {
	names, ups := sortedSides(sides)
	rows := Join(id, insert, emit, ups...)
	return FlatMapValue(id+"_named", rows, func(row []*V) []map[string]V { return named(names, [][]*V{row}) })
}

// sortedSides returns the names of named sides in order and their
// streams in the same order.
func sortedSides[V any](sides map[string]*Stream[KV[V]]) ([]string, []*Stream[KV[V]]) {
	names := slices.Sorted(maps.Keys(sides))
	ups := make([]*Stream[KV[V]], len(names))
	for i, n := range names {
		ups[i] = sides[n]
	}
	return names, ups
}

// labelMerge opens the operator scope id, labels the values of each side
// with its position and merges the sides into one stream inside it.
func labelMerge[V any](id string, sides []*Stream[KV[V]]) (*Scope, *Stream[KV[JoinItem[V]]]) {
	sameScope("join "+id, sides)
	sc, first := Enter(id, sides[0])
	names, labeled := Enter("add_names", first)
	outs := make([]*Stream[KV[JoinItem[V]]], len(sides))
	for i, s := range sides {
		in := labeled
		if i > 0 {
			in = In(names, In(sc, s))
		}
		outs[i] = MapValue(fmt.Sprintf("label_%d", i), in, func(v V) JoinItem[V] { return JoinItem[V]{Side: i, Value: v} })
	}
	return sc, Exit(names, Merge("merge", outs...))
}

// joinLogic is the logic of one key of Join.
type joinLogic[V any] struct {
	insert JoinInsertMode
	emit   JoinEmitMode
	state  joinState[V]
}

// OnBatch inserts the values in order, emitting as the emit mode says; a
// key left without values is discarded.
func (l *joinLogic[V]) OnBatch(values []JoinItem[V]) ([][]*V, bool) {
	var out [][]*V
	for _, j := range values {
		l.state.insert(l.insert, j)
		out = append(out, l.state.emitRows(l.emit)...)
	}
	return out, l.state.empty()
}

// OnNotify does nothing: joins ask for no notification.
func (l *joinLogic[V]) OnNotify() ([][]*V, bool) { return nil, false }

// OnEOF emits the final rows in JoinFinal and forgets the key; other
// modes keep the values for a later execution.
func (l *joinLogic[V]) OnEOF() ([][]*V, bool) {
	if l.emit != JoinFinal {
		return nil, false
	}
	return l.state.rows(), true
}

// NotifyAt asks for no notification.
func (l *joinLogic[V]) NotifyAt() (time.Time, bool) { return time.Time{}, false }

// Snapshot returns the values held.
func (l *joinLogic[V]) Snapshot() joinState[V] { return l.state }

// JoinWindow joins the values of a key across sides within each window
// (Bytewax 0.21's join_window): clock reads the sides' values, insert and
// emit work as in Join, and in JoinFinal a window's rows are emitted when
// it closes. Late carries the late values labelled with their side. Its
// core steps are the add_names steps of Join and those of Window under
// "<id>.window".
func JoinWindow[V any](id string, clock Clock[V], windower Windower, insert JoinInsertMode, emit JoinEmitMode, sides ...*Stream[KV[V]]) WindowOut[JoinItem[V], []*V] {
	checkJoinModes("JoinWindow", id, insert, emit, len(sides))
	sc, labeled := labelMerge(id, sides)
	n := len(sides)
	o := Window("window", labeled, joinClock(clock), windower, func(resume *joinState[V]) WindowLogic[JoinItem[V], []*V, joinState[V]] {
		l := &joinWindowLogic[V]{insert: insert, emit: emit, state: newJoinState[V](n)}
		if resume != nil && len(resume.Seen) == n {
			l.state = *resume
		}
		return l
	})
	return WindowOut[JoinItem[V], []*V]{Down: Exit(sc, o.Down), Late: Exit(sc, o.Late), Meta: Exit(sc, o.Meta)}
}

// JoinWindowNamed is JoinWindow with named sides: rows are maps from side
// name to value, without the sides that have none; JoinItem.Side is the
// position of the side's name in sorted order.
func JoinWindowNamed[V any](id string, clock Clock[V], windower Windower, insert JoinInsertMode, emit JoinEmitMode, sides map[string]*Stream[KV[V]]) WindowOut[JoinItem[V], map[string]V] {
	names, ups := sortedSides(sides)
	o := JoinWindow(id, clock, windower, insert, emit, ups...)
	down := FlatMapValue(id+"_named", o.Down, func(w Windowed[[]*V]) []Windowed[map[string]V] {
		m := named(names, [][]*V{w.Value})
		return []Windowed[map[string]V]{{ID: w.ID, Value: m[0]}}
	})
	return WindowOut[JoinItem[V], map[string]V]{Down: down, Late: o.Late, Meta: o.Meta}
}

// joinClock reads a join's labelled values with the sides' clock.
func joinClock[V any](c Clock[V]) Clock[JoinItem[V]] {
	out := Clock[JoinItem[V]]{wait: c.wait, now: c.now}
	if c.ts != nil {
		out.ts = func(j JoinItem[V]) time.Time { return c.ts(j.Value) }
	}
	return out
}

// joinWindowLogic is the WindowLogic of one window of JoinWindow.
type joinWindowLogic[V any] struct {
	insert JoinInsertMode
	emit   JoinEmitMode
	state  joinState[V]
}

func (l *joinWindowLogic[V]) OnValue(j JoinItem[V]) [][]*V {
	l.state.insert(l.insert, j)
	return l.state.emitRows(l.emit)
}

// OnMerge takes in a merged session's values: JoinFirst keeps this (the
// older) window's values where it has them, JoinLast the original's,
// JoinProduct all of them.
func (l *joinWindowLogic[V]) OnMerge(original WindowLogic[JoinItem[V], []*V, joinState[V]]) [][]*V {
	o := original.(*joinWindowLogic[V]).state
	switch l.insert {
	case JoinFirst:
		l.state.fill(o)
	case JoinLast:
		o.fill(l.state)
		l.state = o
	case JoinProduct:
		for i := range l.state.Seen {
			l.state.Seen[i] = append(l.state.Seen[i], o.Seen[i]...)
		}
	}
	return l.state.emitRows(l.emit)
}

// OnClose emits the window's rows in JoinFinal.
func (l *joinWindowLogic[V]) OnClose() [][]*V {
	if l.emit != JoinFinal {
		return nil
	}
	return l.state.rows()
}

func (l *joinWindowLogic[V]) Snapshot() joinState[V] { return l.state }
