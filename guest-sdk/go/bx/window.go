package bx

import "cmp"

// WindowOut holds the three streams of a window operator (Bytewax 0.21's
// WindowOut), all keyed by the upstream key.
type WindowOut[V, W any] struct {
	// Down carries what the windows emit, with their window id.
	Down *Stream[KV[Windowed[W]]]
	// Late carries the items older than their key's watermark, with the
	// id of each window they missed (LateSessionID for sessions); such
	// ids may never appear on Down or Meta.
	Late *Stream[KV[Windowed[V]]]
	// Meta carries each window's metadata once, when it closes; sessions
	// merged into another get none, the one they merged into lists them.
	Meta *Stream[KV[Windowed[WindowMetadata]]]
}

// WindowOption tunes a window operator.
type WindowOption func(*windowOptions)

type windowOptions struct{ ordered bool }

// Ordered says whether values reach the windows in timestamp order
// (Bytewax's ordered). Ordered values wait in the key's state until the
// watermark passes them, which delays them by the clock's wait; unordered
// ones go in as they arrive. Window and FoldWindow default to ordered,
// the operators whose result does not depend on order (CountWindow,
// ReduceWindow, MaxWindow, MinWindow) to unordered.
func Ordered(ordered bool) WindowOption { return func(o *windowOptions) { o.ordered = ordered } }

func windowOpts(ordered bool, opts []WindowOption) windowOptions {
	o := windowOptions{ordered: ordered}
	for _, f := range opts {
		f(&o)
	}
	return o
}

// Window is the general window operator (Bytewax's window): per key,
// clock stamps the values and windower assigns them to windows, each with
// its own WindowLogic built by builder(nil), or builder(&state) on resume.
// A key's windows close when its watermark passes them, through the
// host's timers even if no values arrive, or when the inputs end. A key
// with no open window and nothing queued is forgotten, so closed windows
// leave nothing behind in the recovery store. Its core steps are
// "<id>.stateful_batch" and the flat_map_batch steps of "<id>.unwrap_down",
// "<id>.unwrap_late" and "<id>.unwrap_meta".
func Window[V, W, S any](id string, up *Stream[KV[V]], clock Clock[V], windower Windower, builder func(resume *S) WindowLogic[V, W, S], opts ...WindowOption) WindowOut[V, W] {
	checkLibFunc("Window", id, builder == nil)
	if windower == nil {
		raise("%w: Window %q needs a windower", ErrNil, id)
	}
	spec := &windowSpec[V, W, S]{clock: clock, windower: windower, builder: builder, ordered: windowOpts(true, opts).ordered}
	sc, in := Enter(id, up)
	events := StatefulBatch("stateful_batch", in, spec.build)
	return WindowOut[V, W]{
		Down: Exit(sc, unwrap(events, "unwrap_down", eventEmit, func(e windowEvent[V, W]) W { return e.emit })),
		Late: Exit(sc, unwrap(events, "unwrap_late", eventLate, func(e windowEvent[V, W]) V { return e.late })),
		Meta: Exit(sc, unwrap(events, "unwrap_meta", eventMeta, func(e windowEvent[V, W]) WindowMetadata { return e.meta })),
	}
}

// unwrap keeps the events of one kind, as (window id, payload).
func unwrap[V, W, T any](events *Stream[KV[windowEvent[V, W]]], id string, kind byte, get func(windowEvent[V, W]) T) *Stream[KV[Windowed[T]]] {
	return FilterMapValue(id, events, func(e windowEvent[V, W]) (Windowed[T], bool) {
		if e.kind != kind {
			return Windowed[T]{}, false
		}
		return Windowed[T]{ID: e.id, Value: get(e)}, true
	})
}

// FoldWindow folds the values of each window into an accumulator that
// starts as builder() and is emitted when the window closes; merger
// combines the accumulators of merged sessions (Bytewax's fold_window).
// Its core steps are those of Window under "<id>.window".
func FoldWindow[V, S any](id string, up *Stream[KV[V]], clock Clock[V], windower Windower, builder func() S, folder func(S, V) S, merger func(S, S) S, opts ...WindowOption) WindowOut[V, S] {
	checkLibFunc("FoldWindow", id, builder == nil || folder == nil || merger == nil)
	o := windowOpts(true, opts)
	return inScope(id, up, func(in *Stream[KV[V]]) WindowOut[V, S] {
		return Window("window", in, clock, windower, func(resume *S) WindowLogic[V, S, S] {
			l := &foldWindowLogic[V, S]{folder: folder, merger: merger}
			if resume != nil {
				l.state = *resume
			} else {
				l.state = builder()
			}
			return l
		}, Ordered(o.ordered))
	})
}

// inScope runs body inside the operator scope id and brings its streams
// out.
func inScope[V, W any](id string, up *Stream[KV[V]], body func(in *Stream[KV[V]]) WindowOut[V, W]) WindowOut[V, W] {
	sc, in := Enter(id, up)
	o := body(in)
	return WindowOut[V, W]{Down: Exit(sc, o.Down), Late: Exit(sc, o.Late), Meta: Exit(sc, o.Meta)}
}

// foldWindowLogic is the WindowLogic of FoldWindow.
type foldWindowLogic[V, S any] struct {
	folder func(S, V) S
	merger func(S, S) S
	state  S
}

func (l *foldWindowLogic[V, S]) OnValue(v V) []S {
	l.state = l.folder(l.state, v)
	return nil
}

func (l *foldWindowLogic[V, S]) OnMerge(original WindowLogic[V, S, S]) []S {
	l.state = l.merger(l.state, original.(*foldWindowLogic[V, S]).state)
	return nil
}

func (l *foldWindowLogic[V, S]) OnClose() []S { return []S{l.state} }

func (l *foldWindowLogic[V, S]) Snapshot() S { return l.state }

// CollectWindow gathers the values of each window into a slice, emitted
// when the window closes; ordered (the default) puts them in timestamp
// order. Its core steps are those of FoldWindow under "<id>.fold_window".
func CollectWindow[V any](id string, up *Stream[KV[V]], clock Clock[V], windower Windower, opts ...WindowOption) WindowOut[V, []V] {
	return inScope(id, up, func(in *Stream[KV[V]]) WindowOut[V, []V] {
		return FoldWindow("fold_window", in, clock, windower,
			func() []V { return nil },
			func(s []V, v V) []V { return append(s, v) },
			func(a, b []V) []V { return append(a, b...) }, opts...)
	})
}

// CountWindow counts the items of up per key(item) and window, emitting
// each count when its window closes (Bytewax's count_window). Its core
// steps are "<id>.keyed.map.flat_map_batch" and those of FoldWindow under
// "<id>.sum".
func CountWindow[X any](id string, up *Stream[X], clock Clock[X], windower Windower, key func(X) string) WindowOut[X, int] {
	checkLibFunc("CountWindow", id, key == nil)
	sc, in := Enter(id, up)
	keyed := KeyOn("keyed", in, key)
	o := FoldWindow("sum", keyed, clock, windower,
		func() int { return 0 },
		func(n int, _ X) int { return n + 1 },
		func(a, b int) int { return a + b }, Ordered(false))
	return WindowOut[X, int]{Down: Exit(sc, o.Down), Late: Exit(sc, o.Late), Meta: Exit(sc, o.Meta)}
}

// ReduceWindow combines the values of each window with reducer, the first
// value being the start, and emits the result when the window closes
// (Bytewax's reduce_window; unordered). Its core steps are those of
// FoldWindow under "<id>.fold_window".
func ReduceWindow[V any](id string, up *Stream[KV[V]], clock Clock[V], windower Windower, reducer func(V, V) V) WindowOut[V, V] {
	checkLibFunc("ReduceWindow", id, reducer == nil)
	return inScope(id, up, func(in *Stream[KV[V]]) WindowOut[V, V] {
		o := FoldWindow("fold_window", in, clock, windower,
			func() reduced[V] { return reduced[V]{} },
			func(s reduced[V], v V) reduced[V] { return s.add(v, reducer) },
			func(a, b reduced[V]) reduced[V] { return a.merge(b, reducer) }, Ordered(false))
		return WindowOut[V, V]{Down: FilterMapValue("unwrap", o.Down, unreduce[V]), Late: o.Late, Meta: o.Meta}
	})
}

// reduced is ReduceWindow's accumulator: the reduction so far, once there
// is a value.
type reduced[V any] struct {
	Set   bool `json:"set"`
	Value V    `json:"value"`
}

func (s reduced[V]) add(v V, reducer func(V, V) V) reduced[V] {
	if !s.Set {
		return reduced[V]{Set: true, Value: v}
	}
	return reduced[V]{Set: true, Value: reducer(s.Value, v)}
}

func (s reduced[V]) merge(o reduced[V], reducer func(V, V) V) reduced[V] {
	if !o.Set {
		return s
	}
	return s.add(o.Value, reducer)
}

func unreduce[V any](w Windowed[reduced[V]]) (Windowed[V], bool) {
	return Windowed[V]{ID: w.ID, Value: w.Value.Value}, w.Value.Set
}

// MaxWindow emits the largest value of each window when it closes; of
// equal values the first one wins. Its core steps are those of
// ReduceWindow under "<id>.reduce_window".
func MaxWindow[V cmp.Ordered](id string, up *Stream[KV[V]], clock Clock[V], windower Windower) WindowOut[V, V] {
	return MaxWindowBy(id, up, clock, windower, func(v V) V { return v })
}

// MinWindow emits the smallest value of each window when it closes; of
// equal values the first one wins. Its core steps are those of MaxWindow.
func MinWindow[V cmp.Ordered](id string, up *Stream[KV[V]], clock Clock[V], windower Windower) WindowOut[V, V] {
	return MinWindowBy(id, up, clock, windower, func(v V) V { return v })
}

// MaxWindowBy emits, per window, the value with the largest by(value);
// of equal ones the first wins. Its core steps are those of MaxWindow.
func MaxWindowBy[V any, K cmp.Ordered](id string, up *Stream[KV[V]], clock Clock[V], windower Windower, by func(V) K) WindowOut[V, V] {
	checkLibFunc("MaxWindowBy", id, by == nil)
	return inScope(id, up, func(in *Stream[KV[V]]) WindowOut[V, V] {
		return ReduceWindow("reduce_window", in, clock, windower, func(s, v V) V {
			if by(v) > by(s) {
				return v
			}
			return s
		})
	})
}

// MinWindowBy emits, per window, the value with the smallest by(value);
// of equal ones the first wins. Its core steps are those of MaxWindow.
func MinWindowBy[V any, K cmp.Ordered](id string, up *Stream[KV[V]], clock Clock[V], windower Windower, by func(V) K) WindowOut[V, V] {
	checkLibFunc("MinWindowBy", id, by == nil)
	return inScope(id, up, func(in *Stream[KV[V]]) WindowOut[V, V] {
		return ReduceWindow("reduce_window", in, clock, windower, func(s, v V) V {
			if by(v) < by(s) {
				return v
			}
			return s
		})
	})
}
