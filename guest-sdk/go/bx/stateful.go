package bx

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/bxwasm/bxwasm/guest-sdk/go/abi"
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
		val: valueCodecOf[V](), out: down.codec, state: valueCodecOf[S](),
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

// keyLogic is one key's logic and what the runtime tracks about it.
type keyLogic[V, W, S any] struct {
	key    string
	logic  StatefulBatchLogic[V, W, S]
	seq    uint64 // when the key was built, for on_eof in first-seen order
	notify int64  // the notify_at last reported to the host (0: none)
	batch  uint64 // the batch that last touched the key
	group  int    // the key's group in that batch
	fresh  bool   // built from resume state at EOF, not registered yet
}

// statefulRT runs one stateful_batch step of this instance: the live
// logics of the keys this worker owns.
type statefulRT[V, W, S any] struct {
	st      *step
	builder func(resume *S) StatefulBatchLogic[V, W, S]
	keys    map[string]*keyLogic[V, W, S]
	resumed resumedKeys // restored keys whose logic is built on first use
	seq     uint64
	batches uint64
	val     valueCodec[V]
	out     *itemCodec[KV[W]]
	state   valueCodec[S]
	groups  []*keyLogic[V, W, S] // keys of the current batch, first seen first
	counts  []int                // values per group
	order   []int32              // group of every item, in order
	values  []V                  // every item's value, in order
}

// onBatch groups a keyed batch by key, keeping first-seen order, and calls
// OnBatch once per key.
func (rt *statefulRT[V, W, S]) onBatch(b abi.Batch, out *abi.KeyedUpdates) error {
	if err := rt.groupBatch(b); err != nil {
		return err
	}
	grouped := rt.arrange()
	off := 0
	for g, kl := range rt.groups {
		vs := grouped[off : off+rt.counts[g] : off+rt.counts[g]]
		off += rt.counts[g]
		enter(rt.st, "on_batch", kl.key)
		emit, discard := kl.logic.OnBatch(vs)
		if err := rt.finish(kl, emit, discard, out); err != nil {
			return err
		}
	}
	return nil
}

// groupBatch decodes the batch's values and finds (or builds) each item's
// key logic, with one map lookup per item and no allocation for keys
// already live.
func (rt *statefulRT[V, W, S]) groupBatch(b abi.Batch) error {
	cur = site{step: rt.st}
	rt.batches++
	rt.groups, rt.counts, rt.order, rt.values = rt.groups[:0], rt.counts[:0], rt.order[:0], rt.values[:0]
	it := b.Iter()
	var item abi.Item
	for it.Next(&item) {
		if !item.HasKey {
			return fmt.Errorf("decoding an item for step %s: %w: item of a keyed stream has no key", rt.st.info.ID, ErrDecode)
		}
		v, err := rt.val.dec(item.Value)
		if err != nil {
			return fmt.Errorf("decoding an item for step %s: %w", rt.st.info.ID, err)
		}
		kl, err := rt.touch(item.Key)
		if err != nil {
			return err
		}
		rt.order = append(rt.order, int32(kl.group))
		rt.values = append(rt.values, v)
		rt.counts[kl.group]++
	}
	return it.Err()
}

// touch returns the key's logic, building it for a new key, and gives it a
// group in the current batch.
func (rt *statefulRT[V, W, S]) touch(key []byte) (*keyLogic[V, W, S], error) {
	kl, ok := rt.keys[string(key)]
	if !ok {
		var err error
		if kl, ok, err = rt.resume(string(key)); err != nil {
			return nil, err
		}
		if !ok {
			if kl, err = rt.build(string(key), nil); err != nil {
				return nil, err
			}
		}
	}
	if kl.batch != rt.batches {
		kl.batch, kl.group = rt.batches, len(rt.groups)
		rt.groups = append(rt.groups, kl)
		rt.counts = append(rt.counts, 0)
	}
	return kl, nil
}

// arrange lays the batch's values out group after group in a new slice
// (logics may keep the slices they are given).
func (rt *statefulRT[V, W, S]) arrange() []V {
	start := make([]int, len(rt.counts))
	off := 0
	for g, n := range rt.counts {
		start[g], off = off, off+n
	}
	grouped := make([]V, len(rt.values))
	for i, g := range rt.order {
		grouped[start[g]] = rt.values[i]
		start[g]++
	}
	clear(rt.values)
	return grouped
}

// build creates a key's logic, from resume state or fresh.
func (rt *statefulRT[V, W, S]) build(key string, resume *S) (*keyLogic[V, W, S], error) {
	enter(rt.st, "builder", key)
	l := rt.builder(resume)
	if l == nil {
		return nil, fmt.Errorf("%w for key %q in step %s", ErrNilLogic, key, rt.st.info.ID)
	}
	rt.seq++
	kl := &keyLogic[V, W, S]{key: key, logic: l, seq: rt.seq}
	rt.keys[key] = kl
	return kl, nil
}

// finish encodes what a logic emitted and reports the key to the host when
// it was discarded or its notify_at changed.
func (rt *statefulRT[V, W, S]) finish(kl *keyLogic[V, W, S], emit []W, discard bool, out *abi.KeyedUpdates) error {
	for _, w := range emit {
		if err := rt.out.appendItem(&out.Emits, &KV[W]{Key: kl.key, Value: w}); err != nil {
			return fmt.Errorf("encoding an item of step %s for key %q: %w", rt.st.info.ID, kl.key, err)
		}
	}
	if discard {
		delete(rt.keys, kl.key)
		out.Keys = append(out.Keys, abi.KeyState{Key: kl.key, Discard: true})
		return nil
	}
	enter(rt.st, "notify_at", kl.key)
	var at int64
	if t, ok := kl.logic.NotifyAt(); ok {
		at = unixNanos(t)
	}
	if at != kl.notify {
		kl.notify = at
		out.Keys = append(out.Keys, abi.KeyState{Key: kl.key, NotifyAt: at})
	}
	return nil
}

// live returns the key's logic, building it from resume state if the key
// was restored and not used since.
func (rt *statefulRT[V, W, S]) live(key string) (*keyLogic[V, W, S], bool, error) {
	if kl, ok := rt.keys[key]; ok {
		return kl, true, nil
	}
	return rt.resume(key)
}

// resume builds the logic of a restored key, if key is one.
func (rt *statefulRT[V, W, S]) resume(key string) (*keyLogic[V, W, S], bool, error) {
	e := rt.resumed.find(key)
	if e == nil {
		return nil, false, nil
	}
	seq := e.seq
	kl, err := rt.rebuild(key, rt.resumed.take(e), seq)
	if err != nil {
		return nil, false, err
	}
	rt.keys[key] = kl
	return kl, true, nil
}

// rebuild builds a restored key's logic, in its place in building order,
// without registering it.
func (rt *statefulRT[V, W, S]) rebuild(key string, state []byte, seq uint64) (*keyLogic[V, W, S], error) {
	s, err := rt.state.dec(state)
	if err != nil {
		return nil, fmt.Errorf("decoding the state of key %q in step %s: %w", key, rt.st.info.ID, err)
	}
	enter(rt.st, "builder", key)
	l := rt.builder(&s)
	if l == nil {
		return nil, fmt.Errorf("%w for key %q in step %s", ErrNilLogic, key, rt.st.info.ID)
	}
	return &keyLogic[V, W, S]{key: key, logic: l, seq: seq}, nil
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
		kl, ok, err := rt.live(key)
		if err != nil {
			return err
		}
		if !ok {
			out.Keys = append(out.Keys, abi.KeyState{Key: key, Discard: true})
			continue
		}
		enter(rt.st, "on_notify", key)
		kl.notify = 0 // the host dropped the timer that fired
		emit, discard := kl.logic.OnNotify()
		if err := rt.finish(kl, emit, discard, out); err != nil {
			return err
		}
	}
	return nil
}

// onEOF calls OnEOF for every live key, in the order the keys were built.
func (rt *statefulRT[V, W, S]) onEOF(out *abi.KeyedUpdates) error {
	logics := make([]*keyLogic[V, W, S], 0, len(rt.keys)+rt.resumed.unused)
	for _, kl := range rt.keys {
		logics = append(logics, kl)
	}
	// Restored keys not used since are built here but registered only if
	// they outlive on_eof, so a resume that ends at once does not hold
	// every key twice.
	err := rt.resumed.each(func(key string, state []byte, seq uint64) error {
		kl, err := rt.rebuild(key, state, seq)
		if err == nil {
			kl.fresh = true
			logics = append(logics, kl)
		}
		return err
	})
	if err != nil {
		return err
	}
	slices.SortFunc(logics, func(a, b *keyLogic[V, W, S]) int { return cmp.Compare(a.seq, b.seq) })
	for _, kl := range logics {
		enter(rt.st, "on_eof", kl.key)
		emit, discard := kl.logic.OnEOF()
		if kl.fresh && !discard {
			rt.keys[kl.key] = kl
		}
		kl.fresh = false
		if err := rt.finish(kl, emit, discard, out); err != nil {
			return err
		}
	}
	return nil
}

// snapshot returns the state of each key, or a tombstone for keys without
// a logic.
func (rt *statefulRT[V, W, S]) snapshot(keys []string, out *abi.Snapshots) error {
	return snapshotStates(rt.st, keys, out, rt.state, func(key string) (S, bool, error) {
		kl, ok, err := rt.live(key)
		if !ok || err != nil {
			var zero S
			return zero, false, err
		}
		enter(rt.st, "snapshot", key)
		return kl.logic.Snapshot(), true, nil
	})
}

// snapshotStates appends the state of each key to out, encoded by codec,
// or a tombstone for a key that state says has none.
func snapshotStates[S any](st *step, keys []string, out *abi.Snapshots, codec valueCodec[S], state func(key string) (S, bool, error)) error {
	var arena []byte
	for _, key := range keys {
		s, ok, err := state(key)
		if err != nil {
			return err
		}
		if !ok {
			out.Items = append(out.Items, abi.KeySnap{Key: key})
			continue
		}
		start := len(arena)
		if arena, err = codec.enc(arena, s); err != nil {
			return fmt.Errorf("encoding the state of key %q in step %s: %w", key, st.info.ID, err)
		}
		out.Items = append(out.Items, abi.KeySnap{Key: key, Present: true, State: arena[start:len(arena):len(arena)]})
	}
	return nil
}

// restore takes keys' resume state, replacing their logics; a tombstone
// drops the key. Logics are built when their keys are first used (states
// that do not decode fail then, naming the key).
func (rt *statefulRT[V, W, S]) restore(items []abi.KeySnap) error {
	for _, it := range items {
		if len(rt.keys) > 0 {
			delete(rt.keys, it.Key)
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
