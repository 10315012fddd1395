package bx

import "time"

// StatefulLogic is the state of one key of a Stateful step, called one
// value at a time (Bytewax 0.21's StatefulLogic). Every method returns the
// values to emit downstream, keyed with the logic's key, and whether to
// discard the logic. A logic discarded by OnItem is rebuilt with
// builder(nil) if more values arrive for its key, even within one batch.
type StatefulLogic[V, W, S any] interface {
	// OnItem receives one value of the key.
	OnItem(value V) (emit []W, discard bool)
	// OnNotify is called once the time NotifyAt returned has come.
	OnNotify() (emit []W, discard bool)
	// OnEOF is called once when the inputs of the step end.
	OnEOF() (emit []W, discard bool)
	// NotifyAt says when to call OnNotify next, if at all. It is read
	// after the other calls for logics not discarded.
	NotifyAt() (at time.Time, ok bool)
	// Snapshot returns the state to resume from. The SDK encodes it at
	// once, so it may share memory with the live state.
	Snapshot() S
}

// Stateful adds a step that keeps a StatefulLogic per key of up:
// builder(nil) builds the logic of a new key and builder(&s) resumes one
// from a snapshot. Its core step is "<id>.stateful_batch".
func Stateful[V, W, S any](id string, up *Stream[KV[V]], builder func(resume *S) StatefulLogic[V, W, S]) *Stream[KV[W]] {
	checkLibFunc("Stateful", id, builder == nil)
	return statefulIn(up, builder, id)
}

// statefulIn adds the stateful_batch step of a Stateful operator below the
// scopes of path.
func statefulIn[V, W, S any](up *Stream[KV[V]], builder func(resume *S) StatefulLogic[V, W, S], path ...string) *Stream[KV[W]] {
	return batchLogicIn(up, func(resume *S) StatefulBatchLogic[V, W, S] {
		l := builder(resume)
		if l == nil {
			return nil // StatefulBatch reports the nil logic
		}
		return &itemLogic[V, W, S]{logic: l, builder: builder}
	}, path...)
}

// batchLogicIn adds a StatefulBatch step "stateful_batch" below the
// scopes of path.
func batchLogicIn[V, W, S any](up *Stream[KV[V]], builder func(resume *S) StatefulBatchLogic[V, W, S], path ...string) *Stream[KV[W]] {
	return nested(up, path, func(in *Stream[KV[V]]) *Stream[KV[W]] {
		return StatefulBatch("stateful_batch", in, builder)
	})
}

// itemLogic runs a StatefulLogic as a StatefulBatchLogic: one OnItem per
// value, rebuilding the logic after a discard.
type itemLogic[V, W, S any] struct {
	logic   StatefulLogic[V, W, S] // nil once discarded within a batch
	builder func(resume *S) StatefulLogic[V, W, S]
}

// OnBatch calls OnItem for every value and discards the key if the last
// value left it without a logic.
func (l *itemLogic[V, W, S]) OnBatch(values []V) ([]W, bool) {
	var out []W
	for _, v := range values {
		if l.logic == nil {
			if l.logic = l.builder(nil); l.logic == nil {
				panic(ErrNilLogic)
			}
		}
		emit, discard := l.logic.OnItem(v)
		out = append(out, emit...) // copied: emit may be the logic's own slice
		if discard {
			l.logic = nil
		}
	}
	return out, l.logic == nil
}

// OnNotify calls the logic's OnNotify.
func (l *itemLogic[V, W, S]) OnNotify() ([]W, bool) { return l.logic.OnNotify() }

// OnEOF calls the logic's OnEOF.
func (l *itemLogic[V, W, S]) OnEOF() ([]W, bool) { return l.logic.OnEOF() }

// NotifyAt calls the logic's NotifyAt.
func (l *itemLogic[V, W, S]) NotifyAt() (time.Time, bool) { return l.logic.NotifyAt() }

// Snapshot calls the logic's Snapshot.
func (l *itemLogic[V, W, S]) Snapshot() S { return l.logic.Snapshot() }

// StatefulMap transforms the values of a keyed stream one to one with a
// state per key. mapper gets the key's state (nil for a new key) and a
// value, and returns the new state and the value to emit; a nil state
// discards the key, which starts again from nil with its next value.
// Its core step is "<id>.stateful_flat_map.stateful.stateful_batch".
func StatefulMap[V, S, W any](id string, up *Stream[KV[V]], mapper func(state *S, value V) (*S, W)) *Stream[KV[W]] {
	checkLibFunc("StatefulMap", id, mapper == nil)
	step := func(out []W, state *S, v V) ([]W, *S) {
		s, w := mapper(state, v)
		return append(out, w), s
	}
	return batchLogicIn(up, stateBuilder(step), id, "stateful_flat_map", "stateful")
}

// StatefulFlatMap transforms the values of a keyed stream one to many
// with a state per key, like StatefulMap but emitting every value mapper
// returns. Its core step is "<id>.stateful.stateful_batch".
func StatefulFlatMap[V, S, W any](id string, up *Stream[KV[V]], mapper func(state *S, value V) (*S, []W)) *Stream[KV[W]] {
	checkLibFunc("StatefulFlatMap", id, mapper == nil)
	step := func(out []W, state *S, v V) ([]W, *S) {
		s, ws := mapper(state, v)
		return append(out, ws...), s
	}
	return batchLogicIn(up, stateBuilder(step), id, "stateful")
}

// stateStep applies one value to a key's state, appending what it emits.
type stateStep[V, S, W any] func(out []W, state *S, v V) ([]W, *S)

func stateBuilder[V, S, W any](step stateStep[V, S, W]) func(resume *S) StatefulBatchLogic[V, W, S] {
	return func(resume *S) StatefulBatchLogic[V, W, S] {
		return &stateLogic[V, S, W]{step: step, state: resume}
	}
}

// stateLogic is the logic of StatefulMap and StatefulFlatMap: a state
// pointer that the user's mapper replaces value by value.
type stateLogic[V, S, W any] struct {
	step  stateStep[V, S, W]
	state *S
}

// OnBatch runs the mapper on every value; a nil state between values
// means a new key, at the end it discards the key.
func (l *stateLogic[V, S, W]) OnBatch(values []V) ([]W, bool) {
	var out []W
	for _, v := range values {
		out, l.state = l.step(out, l.state, v)
	}
	return out, l.state == nil
}

// OnNotify does nothing: these logics never ask for a notification.
func (l *stateLogic[V, S, W]) OnNotify() ([]W, bool) { return nil, false }

// OnEOF keeps the state: it may resume in a later execution.
func (l *stateLogic[V, S, W]) OnEOF() ([]W, bool) { return nil, false }

// NotifyAt asks for no notification.
func (l *stateLogic[V, S, W]) NotifyAt() (time.Time, bool) { return time.Time{}, false }

// Snapshot returns the current state.
func (l *stateLogic[V, S, W]) Snapshot() S {
	if l.state == nil {
		var zero S
		return zero
	}
	return *l.state
}
