package bx

import (
	"cmp"
	"slices"
)

// This file holds the *_final operators: they aggregate each key over the
// whole (finite) stream and emit one value per key only when the inputs
// end, then forget the key. On an endless stream they never emit; use a
// windowed operator there.

// FoldFinal folds the values of each key into an accumulator that starts
// as builder() and emits it when the inputs end. Its core step is
// "<id>.stateful.stateful_batch".
func FoldFinal[V, S any](id string, up *Stream[KV[V]], builder func() S, folder func(S, V) S) *Stream[KV[S]] {
	checkLibFunc("FoldFinal", id, builder == nil || folder == nil)
	return foldIn(up, builder, folder, id)
}

// foldIn adds the stateful step of a fold below the scopes of path.
func foldIn[V, S any](up *Stream[KV[V]], builder func() S, folder func(S, V) S, path ...string) *Stream[KV[S]] {
	return nested(up, path, func(in *Stream[KV[V]]) *Stream[KV[S]] {
		return finalIn(in, builder, nil, folder, "stateful")
	})
}

// ReduceFinal combines the values of each key with reducer, the first
// value being the initial accumulator, and emits the result when the
// inputs end. As in Bytewax, each batch is reduced per key before it is
// routed, so reducer must be associative. Its core steps are
// "<id>.pre_reduce" and "<id>.fold_final.stateful.stateful_batch".
func ReduceFinal[V any](id string, up *Stream[KV[V]], reducer func(V, V) V) *Stream[KV[V]] {
	checkLibFunc("ReduceFinal", id, reducer == nil)
	return reduceIn(up, reducer, id)
}

// reduceIn adds the steps of a reduce below the scopes of path.
func reduceIn[V any](up *Stream[KV[V]], reducer func(V, V) V, path ...string) *Stream[KV[V]] {
	return nested(up, path, func(in *Stream[KV[V]]) *Stream[KV[V]] {
		pre := appendBatch("pre_reduce", in, preReduce(reducer))
		return finalIn(pre, nil, func(v V) V { return v }, reducer, "fold_final", "stateful")
	})
}

// preReduce reduces a batch per key, keeping the order in which keys are
// first seen.
func preReduce[V any](reducer func(V, V) V) func([]KV[V], []KV[V]) []KV[V] {
	index := make(map[string]int) // reused: one instance runs one call at a time
	last := 0                     // the previous batch's output size
	return func(xs []KV[V], out []KV[V]) []KV[V] {
		clear(index)
		out = slices.Grow(out, min(len(xs), last+last/8))
		for _, kv := range xs {
			if i, ok := index[kv.Key]; ok {
				out[i].Value = reducer(out[i].Value, kv.Value)
				continue
			}
			index[kv.Key] = len(out)
			out = append(out, kv)
		}
		last = len(out)
		return out
	}
}

// CountFinal counts the items of up per key(item) and emits each key's
// count when the inputs end. Its core steps are
// "<id>.init_count.flat_map_batch", "<id>.sum.pre_reduce" and
// "<id>.sum.fold_final.stateful.stateful_batch".
func CountFinal[T any](id string, up *Stream[T], key func(T) string) *Stream[KV[int]] {
	checkLibFunc("CountFinal", id, key == nil)
	return nested(up, []string{id}, func(in *Stream[T]) *Stream[KV[int]] {
		ones := Map("init_count", in, func(x T) KV[int] { return KV[int]{Key: key(x), Value: 1} })
		return reduceIn(ones, func(a, b int) int { return a + b }, "sum")
	})
}

// MaxFinal emits the largest value of each key when the inputs end; of
// equal values the first one seen wins. Its core steps are
// "<id>.reduce_final.pre_reduce" and
// "<id>.reduce_final.fold_final.stateful.stateful_batch".
func MaxFinal[V cmp.Ordered](id string, up *Stream[KV[V]]) *Stream[KV[V]] {
	return MaxFinalBy(id, up, func(v V) V { return v })
}

// MinFinal emits the smallest value of each key when the inputs end; of
// equal values the first one seen wins. Its core steps are those of
// MaxFinal.
func MinFinal[V cmp.Ordered](id string, up *Stream[KV[V]]) *Stream[KV[V]] {
	return MinFinalBy(id, up, func(v V) V { return v })
}

// MaxFinalBy emits, per key, the value with the largest by(value) when the
// inputs end; of equal ones the first seen wins. Its core steps are those
// of MaxFinal.
func MaxFinalBy[V any, K cmp.Ordered](id string, up *Stream[KV[V]], by func(V) K) *Stream[KV[V]] {
	checkLibFunc("MaxFinalBy", id, by == nil)
	return reduceIn(up, func(s, v V) V {
		if by(v) > by(s) {
			return v
		}
		return s
	}, id, "reduce_final")
}

// MinFinalBy emits, per key, the value with the smallest by(value) when
// the inputs end; of equal ones the first seen wins. Its core steps are
// those of MaxFinal.
func MinFinalBy[V any, K cmp.Ordered](id string, up *Stream[KV[V]], by func(V) K) *Stream[KV[V]] {
	checkLibFunc("MinFinalBy", id, by == nil)
	return reduceIn(up, func(s, v V) V {
		if by(v) < by(s) {
			return v
		}
		return s
	}, id, "reduce_final")
}
