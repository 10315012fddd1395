package bx

import "github.com/bxwasm/bxwasm/guest-sdk/go/abi"

// step is one core operator of a flow with what the dispatcher needs to
// run it. Only the fields of its kind are set.
type step struct {
	info  abi.Step
	index int
	what  string       // the user function run, for error messages
	in    batchCodec   // decodes the input of a chain step
	outs  []batchCodec // encode the outputs of a chain step, in port order
	run   runFunc      // flat_map_batch, branch, inspect_debug
	// borrows says run keeps nothing of its input slice past the call;
	// passes that its first output is its input slice (inspect_debug).
	borrows, passes bool

	stateful statefulRuntime // stateful_batch
	parts    *partsRT        // input and output with a guest connector
}

// runCtx is what a chain run knows beyond its items.
type runCtx struct {
	epoch  uint64
	worker int
	// reuse says the step's first output is only borrowed by what reads it,
	// so a step that can may return the same slice every call.
	reuse bool
}

// runFunc runs one stateless step on a native batch (a []T) and returns
// its outputs (out1 only for branch).
type runFunc func(in any, rc *runCtx) (out0, out1 any)

// Input adds a step that reads items from src into a new stream.
func Input[T any](id string, flow *Dataflow, src Source[T]) *Stream[T] {
	if flow == nil || src == nil {
		raise("%w: Input %q needs a flow and a source", ErrNil, id)
	}
	down := newStream[T](flow.root)
	st := flow.root.addStep(id, abi.KindInput, ids(), ids(down.id))
	st.info.Conn, st.info.Arg = src.conn()
	st.parts = src.runtime(st, down.codec)
	return down
}

// Output adds a step that writes the items of up into sink.
func Output[T any](id string, up *Stream[T], sink Sink[T]) {
	checkStream(up)
	if sink == nil {
		raise("%w: Output %q needs a sink", ErrNil, id)
	}
	st := up.scope.addStep(id, abi.KindOutput, ids(up.id), ids())
	st.info.Conn, st.info.Arg = sink.conn()
	st.parts = sink.runtime(st, up.codec)
}

// FlatMapBatch adds a step that calls mapper once per batch of items and
// emits every item it returns.
func FlatMapBatch[T, U any](id string, up *Stream[T], mapper func([]T) []U) *Stream[U] {
	down, _ := flatMapBatch(id, up, mapper)
	return down
}

// flatMapBatch is FlatMapBatch that also returns its step.
func flatMapBatch[T, U any](id string, up *Stream[T], mapper func([]T) []U) (*Stream[U], *step) {
	checkStream(up)
	checkFunc(id, mapper == nil)
	down := newStream[U](up.scope)
	st := up.scope.addStep(id, abi.KindFlatMapBatch, ids(up.id), ids(down.id))
	st.what, st.in, st.outs = "mapper", up.codec, []batchCodec{down.codec}
	st.run = func(in any, _ *runCtx) (any, any) {
		xs, _ := in.([]T)
		return mapper(xs), nil
	}
	return down, st
}

// Branch adds a step that splits up by predicate: items for which it
// returns true go to trues, the others to falses.
func Branch[T any](id string, up *Stream[T], predicate func(T) bool) (trues, falses *Stream[T]) {
	checkStream(up)
	checkFunc(id, predicate == nil)
	trues, falses = newStream[T](up.scope), newStream[T](up.scope)
	st := up.scope.addStep(id, abi.KindBranch, ids(up.id), ids(trues.id, falses.id))
	st.what, st.in, st.outs = "predicate", up.codec, []batchCodec{trues.codec, falses.codec}
	st.borrows = true
	st.run = func(in any, _ *runCtx) (any, any) {
		xs, _ := in.([]T)
		var yes, no []T
		for _, x := range xs {
			if predicate(x) {
				yes = append(yes, x)
			} else {
				no = append(no, x)
			}
		}
		return yes, no
	}
	return trues, falses
}

// Merge adds a step that emits the items of all ups as one stream.
func Merge[T any](id string, ups ...*Stream[T]) *Stream[T] {
	if len(ups) == 0 {
		raise("%w: Merge %q needs at least one stream", ErrNil, id)
	}
	sc := sameScope("Merge "+id, ups)
	down := newStream[T](sc)
	in := make([]uint32, len(ups))
	for i, s := range ups {
		in[i] = s.id
	}
	sc.addStep(id, abi.KindMerge, in, ids(down.id))
	return down
}

// Redistribute adds a step that spreads the items of up over all workers.
func Redistribute[T any](id string, up *Stream[T]) *Stream[T] {
	checkStream(up)
	down := newStream[T](up.scope)
	up.scope.addStep(id, abi.KindRedistribute, ids(up.id), ids(down.id))
	return down
}

// InspectDebug adds a step that calls inspector with every item, the step's
// id, the epoch and the worker index, and passes the items on.
func InspectDebug[T any](id string, up *Stream[T], inspector func(stepID string, item T, epoch uint64, worker int)) *Stream[T] {
	checkStream(up)
	checkFunc(id, inspector == nil)
	down := newStream[T](up.scope)
	st := up.scope.addStep(id, abi.KindInspectDebug, ids(up.id), ids(down.id))
	st.what, st.in, st.outs = "inspector", up.codec, []batchCodec{down.codec}
	st.borrows, st.passes = true, true
	stepID := st.info.ID
	st.run = func(in any, rc *runCtx) (any, any) {
		xs, _ := in.([]T)
		for _, x := range xs {
			inspector(stepID, x, rc.epoch, rc.worker)
		}
		return xs, nil
	}
	return down
}

func checkFunc(id string, isNil bool) {
	if isNil {
		raise("%w: step %q needs a function", ErrNil, id)
	}
}
