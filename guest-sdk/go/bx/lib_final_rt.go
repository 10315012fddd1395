package bx

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/bxwasm/bxwasm/guest-sdk/go/abi"
)

// finalRT runs the stateful step of the *_final folds without a logic per
// key. It behaves as a StatefulBatch step whose logics fold every value
// into their state, never ask for a notification and, at EOF, emit their
// state and are discarded, but it keeps the
// states in one slice indexed by a map from key to slot: no object, no
// interface call and no grouping per key, and little for the collector to
// walk.
type finalRT[V, S any] struct {
	st *step
	// build starts the state of a new key, which then folds its first
	// value (FoldFinal); without it a key's first value is its state,
	// through seed (ReduceFinal).
	build   func() S
	seed    func(V) S
	fold    func(S, V) S
	index   map[string]int32 // key -> slot
	slots   []finalSlot[S]
	resumed resumedKeys // restored keys whose state is decoded on first use
	seq     uint64
	val     valueCodec[V]
	out     *itemCodec[KV[S]]
	state   valueCodec[S]
}

// finalSlot is one key's state and its place in building order (on_eof
// order). A slot whose key was dropped by a restore is dead until EOF.
type finalSlot[S any] struct {
	key   string
	seq   uint64
	state S
	live  bool
}

// finalIn adds the stateful step of a fold or reduce below the scopes of
// path. For a reduce (build nil) S is V and seed converts one to the other.
func finalIn[V, S any](up *Stream[KV[V]], build func() S, seed func(V) S, fold func(S, V) S, path ...string) *Stream[KV[S]] {
	return nested(up, path, func(in *Stream[KV[V]]) *Stream[KV[S]] {
		checkStream(in)
		down := newStream[KV[S]](in.scope)
		st := in.scope.addStep("stateful_batch", abi.KindStatefulBatch, ids(in.id), ids(down.id))
		st.stateful = &finalRT[V, S]{
			st: st, build: build, seed: seed, fold: fold, index: map[string]int32{},
			val: valueCodecOf[V](), out: down.codec, state: valueCodecOf[S](),
		}
		return down
	})
}

// onBatch folds every value into its key's state, in arrival order. It
// emits nothing and reports no key: a fold neither notifies nor discards
// before EOF.
func (rt *finalRT[V, S]) onBatch(b abi.Batch, _ *abi.KeyedUpdates) error {
	cur = site{step: rt.st, what: "on_batch"}
	it := b.Iter()
	var item abi.Item
	for it.Next(&item) {
		if !item.HasKey {
			cur = site{step: rt.st}
			return fmt.Errorf("decoding an item for step %s: %w: item of a keyed stream has no key", rt.st.info.ID, ErrDecode)
		}
		v, err := rt.val.dec(item.Value)
		if err != nil {
			cur = site{step: rt.st}
			return fmt.Errorf("decoding an item for step %s: %w", rt.st.info.ID, err)
		}
		if i, ok := rt.index[string(item.Key)]; ok {
			s := &rt.slots[i]
			cur.key, cur.hasKey = s.key, true
			s.state = rt.fold(s.state, v)
			continue
		}
		if err := rt.first(string(item.Key), v); err != nil {
			return err
		}
	}
	return it.Err()
}

// first gives a key not live its state: its resume state folded with v if
// it was restored, else a new state from v.
func (rt *finalRT[V, S]) first(key string, v V) error {
	s, ok, err := rt.resume(key)
	if err != nil {
		return err
	}
	if !ok {
		rt.add(key, rt.seq+1, rt.fresh(key, v))
		rt.seq++
		return nil
	}
	enter(rt.st, "on_batch", key)
	s.state = rt.fold(s.state, v)
	return nil
}

// fresh returns the state of a new key whose first value is v.
func (rt *finalRT[V, S]) fresh(key string, v V) S {
	if rt.build == nil {
		return rt.seed(v)
	}
	enter(rt.st, "builder", key)
	s := rt.build()
	enter(rt.st, "on_batch", key)
	return rt.fold(s, v)
}

// add registers a key's state in a new slot.
func (rt *finalRT[V, S]) add(key string, seq uint64, state S) *finalSlot[S] {
	rt.index[key] = int32(len(rt.slots))
	rt.slots = append(rt.slots, finalSlot[S]{key: key, seq: seq, state: state, live: true})
	return &rt.slots[len(rt.slots)-1]
}

// live returns the slot of a key, registering its resume state if the key
// was restored and not used since.
func (rt *finalRT[V, S]) live(key string) (*finalSlot[S], bool, error) {
	if i, ok := rt.index[key]; ok {
		return &rt.slots[i], true, nil
	}
	return rt.resume(key)
}

// resume registers the state of a restored key, if key is one.
func (rt *finalRT[V, S]) resume(key string) (*finalSlot[S], bool, error) {
	e := rt.resumed.find(key)
	if e == nil {
		return nil, false, nil
	}
	seq := e.seq
	s, err := rt.decodeState(key, rt.resumed.take(e))
	if err != nil {
		return nil, false, err
	}
	return rt.add(key, seq, s), true, nil
}

// decodeState decodes a key's resume state.
func (rt *finalRT[V, S]) decodeState(key string, state []byte) (S, error) {
	s, err := rt.state.dec(state)
	if err != nil {
		return s, fmt.Errorf("decoding the state of key %q in step %s: %w", key, rt.st.info.ID, err)
	}
	return s, nil
}

// onNotify has nothing to call: a fold never asks for a notification. A
// key without state is reported discarded so the host forgets its timer.
func (rt *finalRT[V, S]) onNotify(keys []string, out *abi.KeyedUpdates) error {
	for _, key := range keys {
		_, ok, err := rt.live(key)
		if err != nil {
			return err
		}
		if !ok {
			out.Keys = append(out.Keys, abi.KeyState{Key: key, Discard: true})
		}
	}
	return nil
}

// onEOF emits the state of every key, restored ones not used since
// included, in the order the keys were built, and discards them all.
func (rt *finalRT[V, S]) onEOF(out *abi.KeyedUpdates) error {
	slots := slices.DeleteFunc(rt.slots, func(s finalSlot[S]) bool { return !s.live })
	err := rt.resumed.each(func(key string, state []byte, seq uint64) error {
		s, err := rt.decodeState(key, state)
		slots = append(slots, finalSlot[S]{key: key, seq: seq, state: s, live: true})
		return err
	})
	if err != nil {
		return err
	}
	slices.SortFunc(slots, func(a, b finalSlot[S]) int { return cmp.Compare(a.seq, b.seq) })
	rt.index, rt.slots = map[string]int32{}, nil
	for i := range slots {
		s := &slots[i]
		cur = site{step: rt.st, what: "on_eof", key: s.key, hasKey: true}
		if err := rt.out.appendItem(&out.Emits, &KV[S]{Key: s.key, Value: s.state}); err != nil {
			return fmt.Errorf("encoding an item of step %s for key %q: %w", rt.st.info.ID, s.key, err)
		}
		out.Keys = append(out.Keys, abi.KeyState{Key: s.key, Discard: true})
	}
	return nil
}

// snapshot returns the state of each key, or a tombstone for keys without
// one.
func (rt *finalRT[V, S]) snapshot(keys []string, out *abi.Snapshots) error {
	return snapshotStates(rt.st, keys, out, rt.state, func(key string) (S, bool, error) {
		s, ok, err := rt.live(key)
		if !ok || err != nil {
			var zero S
			return zero, false, err
		}
		return s.state, true, nil
	})
}

// restore takes keys' resume state, replacing their states; a tombstone
// drops the key. States are decoded when their keys are first used.
func (rt *finalRT[V, S]) restore(items []abi.KeySnap) error {
	for _, it := range items {
		if i, ok := rt.index[it.Key]; ok {
			delete(rt.index, it.Key)
			rt.slots[i] = finalSlot[S]{}
		}
		if !it.Present {
			rt.resumed.drop(it.Key)
			continue
		}
		rt.seq++
		rt.resumed.add(it.Key, it.State, rt.seq)
	}
	return nil
}
