package bx

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/bxwasm/bxwasm/internal/abi"
)

// ErrNilLogic is returned when a stateful builder returns no logic.
var ErrNilLogic = errors.New("bx: builder returned a nil logic")

// StatefulBatchLogic is the state of one key of a StatefulBatch step, with
// Bytewax 0.21's semantics. Every method returns the items to emit
// downstream (keyed with the logic's key) and whether to discard the logic;
// a discarded key is rebuilt by the builder if values arrive for it again.
type StatefulBatchLogic[V, W, S any] interface {
	// OnBatch receives the key's values of one batch, in arrival order.
	OnBatch(values []V) (emit []W, discard bool)
	// OnNotify is called once the time NotifyAt returned has come.
	OnNotify() (emit []W, discard bool)
	// OnEOF is called once when the inputs of the step end.
	OnEOF() (emit []W, discard bool)
	// NotifyAt says when to call OnNotify next, if at all. It is read after
	// every other call for logics not discarded.
	NotifyAt() (at time.Time, ok bool)
	// Snapshot returns the state to resume from; it must not be changed
	// by later calls.
	Snapshot() S
}

// StatefulBatch adds a step that keeps a logic per key of up. builder(nil)
// builds the logic of a new key; builder(&s) resumes one from a snapshot.
func StatefulBatch[V, W, S any](id string, up *Stream[KV[V]], builder func(resume *S) StatefulBatchLogic[V, W, S]) *Stream[KV[W]] {
	checkStream(up)
	checkFunc(id, builder == nil)
	down := newStream[KV[W]](up.scope)
	st := up.scope.addStep(id, abi.KindStatefulBatch, ids(up.id), ids(down.id))
	st.stateful = &statefulRT[V, W, S]{
		st: st, builder: builder, keys: map[string]*keyLogic[V, W, S]{},
		in: up.codec, out: down.codec, state: valueCodecOf[S](), group: map[string]int{},
	}
	return down
}

// statefulRuntime is a StatefulBatch step as the dispatcher drives it.
type statefulRuntime interface {
	onBatch(b abi.Batch, out *abi.KeyedUpdates) error
	onNotify(keys []string, out *abi.KeyedUpdates) error
	onEOF(out *abi.KeyedUpdates) error
	snapshot(keys []string, out *abi.Snapshots) error
	restore(items []abi.KeySnap) error
}

type keyLogic[V, W, S any] struct {
	logic StatefulBatchLogic[V, W, S]
	seq   uint64 // when the key was built, for on_eof in first-seen order
}

type keyValues[V any] struct {
	key    string
	values []V
}

type statefulRT[V, W, S any] struct {
	st      *step
	builder func(resume *S) StatefulBatchLogic[V, W, S]
	keys    map[string]*keyLogic[V, W, S]
	seq     uint64
	in      *itemCodec[KV[V]]
	out     *itemCodec[KV[W]]
	state   valueCodec[S]
	group   map[string]int
	groups  []keyValues[V]
}

// onBatch groups the batch by key, keeping first-seen order, and calls
// OnBatch once per key.
func (rt *statefulRT[V, W, S]) onBatch(b abi.Batch, out *abi.KeyedUpdates) error {
	if err := rt.groupBatch(b); err != nil {
		return err
	}
	for _, g := range rt.groups {
		l, err := rt.logic(g.key)
		if err != nil {
			return err
		}
		enter(rt.st, "on_batch", g.key)
		emit, discard := l.OnBatch(g.values)
		if err := rt.finish(g.key, l, emit, discard, out); err != nil {
			return err
		}
	}
	return nil
}

func (rt *statefulRT[V, W, S]) groupBatch(b abi.Batch) error {
	cur = site{step: rt.st}
	clear(rt.group)
	clear(rt.groups)
	rt.groups = rt.groups[:0]
	it := b.Iter()
	var item abi.Item
	for it.Next(&item) {
		kv, err := rt.in.decodeItem(item.Key, item.HasKey, item.Value)
		if err != nil {
			return fmt.Errorf("decoding an item for step %s: %w", rt.st.info.ID, err)
		}
		i, ok := rt.group[kv.Key]
		if !ok {
			i = len(rt.groups)
			rt.group[kv.Key] = i
			rt.groups = append(rt.groups, keyValues[V]{key: kv.Key})
		}
		rt.groups[i].values = append(rt.groups[i].values, kv.Value)
	}
	return it.Err()
}

// logic returns the key's logic, building a new one if there is none.
func (rt *statefulRT[V, W, S]) logic(key string) (StatefulBatchLogic[V, W, S], error) {
	if kl, ok := rt.keys[key]; ok {
		return kl.logic, nil
	}
	return rt.build(key, nil)
}

func (rt *statefulRT[V, W, S]) build(key string, resume *S) (StatefulBatchLogic[V, W, S], error) {
	enter(rt.st, "builder", key)
	l := rt.builder(resume)
	if l == nil {
		return nil, fmt.Errorf("%w for key %q in step %s", ErrNilLogic, key, rt.st.info.ID)
	}
	rt.seq++
	rt.keys[key] = &keyLogic[V, W, S]{logic: l, seq: rt.seq}
	return l, nil
}

// finish encodes what a logic emitted and records the key's state.
func (rt *statefulRT[V, W, S]) finish(key string, l StatefulBatchLogic[V, W, S], emit []W, discard bool, out *abi.KeyedUpdates) error {
	for _, w := range emit {
		if err := rt.out.appendItem(&out.Emits, &KV[W]{Key: key, Value: w}); err != nil {
			return fmt.Errorf("encoding an item of step %s for key %q: %w", rt.st.info.ID, key, err)
		}
	}
	ks := abi.KeyState{Key: key, Discard: discard}
	if discard {
		delete(rt.keys, key)
	} else {
		enter(rt.st, "notify_at", key)
		if at, ok := l.NotifyAt(); ok {
			ks.NotifyAt = unixNanos(at)
		}
	}
	out.Keys = append(out.Keys, ks)
	return nil
}

// unixNanos converts a notification time for the wire, where 0 means
// none: times before 1970 (and the zero time) become 1, "as soon as
// possible", and times past 2262 saturate.
func unixNanos(t time.Time) int64 {
	switch {
	case t.Unix() >= math.MaxInt64/int64(time.Second):
		return math.MaxInt64
	case t.Unix() < 0:
		return 1
	}
	return max(t.UnixNano(), 1)
}

// onNotify calls OnNotify for every key given that has a logic; a key
// without one is reported discarded so the host forgets its timer.
func (rt *statefulRT[V, W, S]) onNotify(keys []string, out *abi.KeyedUpdates) error {
	for _, key := range keys {
		kl, ok := rt.keys[key]
		if !ok {
			out.Keys = append(out.Keys, abi.KeyState{Key: key, Discard: true})
			continue
		}
		enter(rt.st, "on_notify", key)
		emit, discard := kl.logic.OnNotify()
		if err := rt.finish(key, kl.logic, emit, discard, out); err != nil {
			return err
		}
	}
	return nil
}

// onEOF calls OnEOF for every live key, in the order the keys were built.
func (rt *statefulRT[V, W, S]) onEOF(out *abi.KeyedUpdates) error {
	keys := make([]string, 0, len(rt.keys))
	for k := range rt.keys {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b string) int { return cmp.Compare(rt.keys[a].seq, rt.keys[b].seq) })
	for _, key := range keys {
		l := rt.keys[key].logic
		enter(rt.st, "on_eof", key)
		emit, discard := l.OnEOF()
		if err := rt.finish(key, l, emit, discard, out); err != nil {
			return err
		}
	}
	return nil
}

// snapshot returns the state of each key, or a tombstone for keys without
// a logic.
func (rt *statefulRT[V, W, S]) snapshot(keys []string, out *abi.Snapshots) error {
	var arena []byte
	for _, key := range keys {
		kl, ok := rt.keys[key]
		if !ok {
			out.Items = append(out.Items, abi.KeySnap{Key: key})
			continue
		}
		enter(rt.st, "snapshot", key)
		start := len(arena)
		var err error
		if arena, err = rt.state.enc(arena, kl.logic.Snapshot()); err != nil {
			return fmt.Errorf("encoding the state of key %q in step %s: %w", key, rt.st.info.ID, err)
		}
		out.Items = append(out.Items, abi.KeySnap{Key: key, Present: true, State: arena[start:len(arena):len(arena)]})
	}
	return nil
}

// restore rebuilds logics from snapshots; a tombstone drops the key.
func (rt *statefulRT[V, W, S]) restore(items []abi.KeySnap) error {
	for _, it := range items {
		if !it.Present {
			delete(rt.keys, it.Key)
			continue
		}
		s, err := rt.state.dec(it.State)
		if err != nil {
			return fmt.Errorf("decoding the state of key %q in step %s: %w", it.Key, rt.st.info.ID, err)
		}
		if _, err := rt.build(it.Key, &s); err != nil {
			return err
		}
	}
	return nil
}
