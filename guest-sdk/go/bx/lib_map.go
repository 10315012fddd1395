package bx

import (
	"fmt"
	"io"
	"os"
	"slices"
)

// This file holds Bytewax's stateless library operators. Each one is an
// operator scope around a single core step; the scopes below the
// operator's own id repeat Bytewax's composition (filter is built from
// flat_map, map_value from map...) so step ids read as in Bytewax, e.g.
// "flow.evens.flat_map.flat_map_batch". The batch functions are written
// directly, though, so nesting costs nothing per item. All of them use
// FlatMapBatch (Inspect uses InspectDebug), so the host fuses them with
// their neighbours and values stay native between them.

// nested opens the scopes of path, one inside the other, starting in up's
// scope; runs body on up as seen from the innermost one; and returns the
// result as seen from up's scope.
func nested[T, U any](up *Stream[T], path []string, body func(in *Stream[T]) *Stream[U]) *Stream[U] {
	scopes := make([]*Scope, len(path))
	in := up
	for i, id := range path {
		scopes[i], in = Enter(id, in)
	}
	out := body(in)
	for i := len(scopes) - 1; i >= 0; i-- {
		out = Exit(scopes[i], out)
	}
	return out
}

// batchOp adds a FlatMapBatch step "flat_map_batch" below the scopes of
// path. mapper appends its outputs to the slice it is given and keeps
// nothing of its input, so the chain may pass it a borrowed batch and a
// reused output slice (see appendBatch).
func batchOp[T, U any](up *Stream[T], mapper func(xs []T, out []U) []U, path ...string) *Stream[U] {
	return nested(up, path, func(in *Stream[T]) *Stream[U] {
		return appendBatch("flat_map_batch", in, mapper)
	})
}

// appendBatch adds a FlatMapBatch step for a library function that
// appends its outputs to out and keeps nothing of xs. Its step borrows its
// input, and when the chain says its output is only borrowed too, it
// appends into the same slice every call instead of a new one.
func appendBatch[T, U any](id string, up *Stream[T], mapper func(xs []T, out []U) []U) *Stream[U] {
	down, st := flatMapBatch(id, up, func(xs []T) []U { return mapper(xs, nil) })
	var buf []U
	st.borrows = true
	st.run = func(in any, rc *runCtx) (any, any) {
		xs, _ := in.([]T)
		if !rc.reuse {
			return mapper(xs, nil), nil
		}
		buf = mapper(xs, buf[:0])
		return buf, nil
	}
	return down
}

// checkLibFunc fails the build when a library operator is given a nil
// function, before any scope is opened.
func checkLibFunc(op, id string, isNil bool) {
	if isNil {
		raise("%w: %s %q needs a function", ErrNil, op, id)
	}
}

// Map transforms items one by one: every item becomes mapper(item).
// Its core step is "<id>.flat_map_batch".
func Map[T, U any](id string, up *Stream[T], mapper func(T) U) *Stream[U] {
	checkLibFunc("Map", id, mapper == nil)
	return batchOp(up, mapItems(mapper), id)
}

func mapItems[T, U any](mapper func(T) U) func([]T, []U) []U {
	return func(xs []T, out []U) []U {
		out = slices.Grow(out, len(xs))
		for _, x := range xs {
			out = append(out, mapper(x))
		}
		return out
	}
}

// MapValue transforms the values of a keyed stream one by one and keeps
// their keys. Its core step is "<id>.map.flat_map_batch".
func MapValue[V, W any](id string, up *Stream[KV[V]], mapper func(V) W) *Stream[KV[W]] {
	checkLibFunc("MapValue", id, mapper == nil)
	return batchOp(up, mapItems(func(kv KV[V]) KV[W] {
		return KV[W]{Key: kv.Key, Value: mapper(kv.Value)}
	}), id, "map")
}

// Filter keeps the items for which predicate returns true. Its core step
// is "<id>.flat_map.flat_map_batch".
func Filter[T any](id string, up *Stream[T], predicate func(T) bool) *Stream[T] {
	checkLibFunc("Filter", id, predicate == nil)
	return batchOp(up, filterItems(predicate), id, "flat_map")
}

func filterItems[T any](keep func(T) bool) func([]T, []T) []T {
	return func(xs []T, out []T) []T {
		for _, x := range xs {
			if keep(x) {
				out = append(out, x)
			}
		}
		return out
	}
}

// FilterValue keeps the items of a keyed stream whose value satisfies
// predicate. Its core step is "<id>.filter.flat_map.flat_map_batch".
func FilterValue[V any](id string, up *Stream[KV[V]], predicate func(V) bool) *Stream[KV[V]] {
	checkLibFunc("FilterValue", id, predicate == nil)
	return batchOp(up, filterItems(func(kv KV[V]) bool { return predicate(kv.Value) }), id, "filter", "flat_map")
}

// FilterMap maps items one to at most one: mapper's result is emitted
// when its second result is true and dropped otherwise (Bytewax drops
// None). Its core step is "<id>.flat_map.flat_map_batch".
func FilterMap[T, U any](id string, up *Stream[T], mapper func(T) (U, bool)) *Stream[U] {
	checkLibFunc("FilterMap", id, mapper == nil)
	return batchOp(up, filterMapItems(mapper), id, "flat_map")
}

func filterMapItems[T, U any](mapper func(T) (U, bool)) func([]T, []U) []U {
	return func(xs []T, out []U) []U {
		for _, x := range xs {
			if u, ok := mapper(x); ok {
				out = append(out, u)
			}
		}
		return out
	}
}

// FilterMapValue maps the values of a keyed stream one to at most one and
// keeps their keys. Its core step is
// "<id>.flat_map_value.flat_map.flat_map_batch".
func FilterMapValue[V, W any](id string, up *Stream[KV[V]], mapper func(V) (W, bool)) *Stream[KV[W]] {
	checkLibFunc("FilterMapValue", id, mapper == nil)
	return batchOp(up, filterMapItems(func(kv KV[V]) (KV[W], bool) {
		w, ok := mapper(kv.Value)
		return KV[W]{Key: kv.Key, Value: w}, ok
	}), id, "flat_map_value", "flat_map")
}

// FlatMap transforms items one to many: every item of every slice mapper
// returns is emitted. Its core step is "<id>.flat_map_batch".
func FlatMap[T, U any](id string, up *Stream[T], mapper func(T) []U) *Stream[U] {
	checkLibFunc("FlatMap", id, mapper == nil)
	return batchOp(up, flatMapItems(mapper), id)
}

func flatMapItems[T, U any](mapper func(T) []U) func([]T, []U) []U {
	last := 0 // the previous batch's output size: a good guess for this one's
	return func(xs []T, out []U) []U {
		out = slices.Grow(out, max(len(xs), last+last/8))
		for _, x := range xs {
			out = append(out, mapper(x)...)
		}
		last = len(out)
		return out
	}
}

// FlatMapValue transforms the values of a keyed stream one to many; every
// value mapper returns is emitted with the key of its input. Its core step
// is "<id>.flat_map.flat_map_batch".
func FlatMapValue[V, W any](id string, up *Stream[KV[V]], mapper func(V) []W) *Stream[KV[W]] {
	checkLibFunc("FlatMapValue", id, mapper == nil)
	return batchOp(up, func(xs []KV[V], out []KV[W]) []KV[W] {
		out = slices.Grow(out, len(xs))
		for _, kv := range xs {
			for _, w := range mapper(kv.Value) {
				out = append(out, KV[W]{Key: kv.Key, Value: w})
			}
		}
		return out
	}, id, "flat_map")
}

// Flatten emits the items of every slice of up, in order. Its core step
// is "<id>.flat_map.flat_map_batch".
func Flatten[T any](id string, up *Stream[[]T]) *Stream[T] {
	return batchOp(up, flatMapItems(func(xs []T) []T { return xs }), id, "flat_map")
}

// KeyOn turns a stream into a keyed stream: every item becomes the value
// of a KV whose key is key(item). Its core step is
// "<id>.map.flat_map_batch".
func KeyOn[T any](id string, up *Stream[T], key func(T) string) *Stream[KV[T]] {
	checkLibFunc("KeyOn", id, key == nil)
	return batchOp(up, mapItems(func(x T) KV[T] { return KV[T]{Key: key(x), Value: x} }), id, "map")
}

// KeyRm drops the keys of a keyed stream and emits its values. Its core
// step is "<id>.map.flat_map_batch".
func KeyRm[V any](id string, up *Stream[KV[V]]) *Stream[V] {
	return batchOp(up, mapItems(func(kv KV[V]) V { return kv.Value }), id, "map")
}

// Inspect calls inspector with the operator's full id ("flow.<id>") and
// every item, and passes the items on unchanged. A nil inspector prints
// "<flow>.<id>: <item>" (fmt's %v) on standard output, as Bytewax's
// default inspector does. Its core step is "<id>.inspect_debug".
func Inspect[T any](id string, up *Stream[T], inspector func(stepID string, item T)) *Stream[T] {
	if inspector == nil {
		inspector = printInspector[T](os.Stdout)
	}
	sc, in := Enter(id, up)
	opID := sc.ID()
	out := InspectDebug("inspect_debug", in, func(_ string, item T, _ uint64, _ int) {
		inspector(opID, item)
	})
	return Exit(sc, out)
}

// printInspector is Inspect's default: one "<step id>: <item>" line per
// item on w.
func printInspector[T any](w io.Writer) func(stepID string, item T) {
	return func(stepID string, item T) {
		fmt.Fprintf(w, "%s: %v\n", stepID, item)
	}
}
