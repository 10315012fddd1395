package engine

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/bxwasm/bxwasm/guest-sdk/go/abi"
	"github.com/bxwasm/bxwasm/internal/plan"
)

// testGraph is the flow every fake guest runs: a partitioned source whose
// items are lines, a flat_map splitting them into words keyed by
// themselves, a stateful step counting each word, and a partitioned sink.
func testGraph() *abi.Graph {
	return &abi.Graph{Flow: "f", Streams: 3, Steps: []abi.Step{
		{ID: "f.inp", Kind: abi.KindInput, Outputs: []uint32{0}, Conn: abi.ConnGuestPartitioned},
		{ID: "f.split", Kind: abi.KindFlatMapBatch, Inputs: []uint32{0}, Outputs: []uint32{1}},
		{ID: "f.count", Kind: abi.KindStatefulBatch, Inputs: []uint32{1}, Outputs: []uint32{2}},
		{ID: "f.out", Kind: abi.KindOutput, Inputs: []uint32{2}, Conn: abi.ConnGuestPartitioned},
	}}
}

// line is one item of a source partition, available from t0+at.
type line struct {
	at   time.Duration
	text string
}

// part is a source partition: its lines, in time order, and when it ends
// (never before its last line).
type part struct {
	lines []line
	end   time.Duration
}

// world is what the fake guests of a run share: the input, the logic's
// settings, and a log of what the engine asked of them.
type world struct {
	t0     time.Time
	parts  map[string]part
	sinks  []string      // sink partition names
	notify time.Duration // > 0: every count sets a timer this far ahead
	// unkeyed is a word the split emits without a key, as a guest that
	// forgot to key its stream does.
	unkeyed string
	mu      struct {
		sync.Mutex
		log []call
	}
}

// call is one thing the engine asked of a fake guest.
type call struct {
	op     string // chain, count, notify, write, restore
	worker int
	at     time.Duration // the call's Now - t0 (write: unset)
	epoch  uint64        // chain: the batch's epoch
	key    string        // count, notify, restore: the key; write: the sink partition
	text   string        // chain: the line; count, notify, write: what was emitted
}

func (w *world) record(c call) {
	w.mu.Lock()
	w.mu.log = append(w.mu.log, c)
	w.mu.Unlock()
}

// calls returns the calls of op so far, in order.
func (w *world) calls(op string) []call {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []call
	for _, c := range w.mu.log {
		if c.op == op {
			out = append(out, c)
		}
	}
	return out
}

func (w *world) since(now int64) time.Duration { return time.Unix(0, now).Sub(w.t0) }

// fakeGuest is one worker's guest, written in Go: what a guest SDK would do
// for testGraph, with a word count per key as its state.
type fakeGuest struct {
	w       *world
	plan    *plan.Plan
	worker  int
	counts  map[string]int
	handles map[uint32]*handle
	resp    []byte // the batches of the last response, as a real instance's buffer
}

// overwrite makes every call clobber the last response's batches, as a
// real guest instance does: the engine must not read a batch a guest
// returned after its next call into the guest.
func (g *fakeGuest) overwrite() {
	for i := range g.resp {
		g.resp[i] = 0xee
	}
	g.resp = g.resp[:0]
}

// lend overwrites the last response and returns b in its buffer.
func (g *fakeGuest) lend(b abi.Batch) abi.Batch {
	g.overwrite()
	g.resp = append(g.resp, b.Body...)
	return abi.Batch{N: b.N, Body: g.resp}
}

// handle is an open partition: a source's position (lines emitted), or a
// sink's name and items written.
type handle struct {
	name string
	pos  int
}

func newFakeGuest(w *world, p *plan.Plan, worker int) *fakeGuest {
	return &fakeGuest{w: w, plan: p, worker: worker, counts: map[string]int{}, handles: map[uint32]*handle{}}
}

// RunChain splits lines into words keyed by themselves.
func (g *fakeGuest) RunChain(_ context.Context, q abi.ChainRequest) (abi.ChainResponse, error) {
	var out abi.Batch
	it := q.Batch.Iter()
	var item abi.Item
	for it.Next(&item) {
		g.w.record(call{op: "chain", worker: g.worker, epoch: q.Epoch, text: string(item.Value)})
		for _, word := range strings.Fields(string(item.Value)) {
			out.Append([]byte(word), word != g.w.unkeyed, []byte(word))
		}
	}
	return abi.ChainResponse{Outputs: []abi.Batch{g.lend(out)}}, it.Err()
}

// StatefulBatch counts each key and emits "key=count"; with world.notify
// set, it asks for on_notify that long after.
func (g *fakeGuest) StatefulBatch(_ context.Context, q abi.StatefulRequest) (abi.KeyedUpdates, error) {
	var up abi.KeyedUpdates
	it := q.Batch.Iter()
	var item abi.Item
	for it.Next(&item) {
		k := string(item.Key)
		g.counts[k]++
		g.emit(&up, "count", k, fmt.Sprintf("%s=%d", k, g.counts[k]), q.Now)
		ks := abi.KeyState{Key: k}
		if g.w.notify > 0 {
			ks.NotifyAt = q.Now + int64(g.w.notify)
		}
		up.Keys = append(up.Keys, ks)
	}
	up.Emits = g.lend(up.Emits)
	return up, it.Err()
}

func (g *fakeGuest) emit(up *abi.KeyedUpdates, op, key, text string, now int64) {
	g.w.record(call{op: op, worker: g.worker, at: g.w.since(now), key: key, text: text})
	up.Emits.Append([]byte(key), true, []byte(text))
}

// Notify emits "key@count" and sets no new timer.
func (g *fakeGuest) Notify(_ context.Context, q abi.KeysRequest) (abi.KeyedUpdates, error) {
	var up abi.KeyedUpdates
	for _, k := range q.Keys {
		g.emit(&up, "notify", k, fmt.Sprintf("%s@%d", k, g.counts[k]), q.Now)
		up.Keys = append(up.Keys, abi.KeyState{Key: k})
	}
	up.Emits = g.lend(up.Emits)
	return up, nil
}

// EOF emits nothing.
func (g *fakeGuest) EOF(context.Context, abi.StepRequest) (abi.KeyedUpdates, error) {
	g.overwrite()
	return abi.KeyedUpdates{}, nil
}

// Snapshot returns each key's count in decimal.
func (g *fakeGuest) Snapshot(_ context.Context, q abi.KeysRequest) (abi.Snapshots, error) {
	g.overwrite()
	s := abi.Snapshots{Step: q.Step}
	for _, k := range q.Keys {
		n, ok := g.counts[k]
		s.Items = append(s.Items, abi.KeySnap{Key: k, Present: ok, State: []byte(strconv.Itoa(n))})
	}
	return s, nil
}

// Restore sets counts from snapshots.
func (g *fakeGuest) Restore(_ context.Context, s abi.Snapshots) error {
	g.overwrite()
	for _, it := range s.Items {
		n, err := strconv.Atoi(string(it.State))
		if err != nil {
			return fmt.Errorf("fake guest: restoring key %q: %w", it.Key, err)
		}
		g.counts[it.Key] = n
		g.w.record(call{op: "restore", worker: g.worker, key: it.Key, text: string(it.State)})
	}
	return nil
}

// ListParts gives every worker every partition.
func (g *fakeGuest) ListParts(_ context.Context, q abi.PartsRequest) ([]string, error) {
	g.overwrite()
	if g.plan.Graph.Steps[q.Step].Kind == abi.KindOutput {
		return g.w.sinks, nil
	}
	names := make([]string, 0, len(g.w.parts))
	for n := range g.w.parts {
		names = append(names, n)
	}
	sort.Strings(names)
	return names, nil
}

// BuildPart opens a partition at its resume position (lines emitted, or
// items written).
func (g *fakeGuest) BuildPart(_ context.Context, q abi.BuildPartRequest) error {
	g.overwrite()
	h := &handle{name: q.Part}
	if q.HasResume {
		n, err := strconv.Atoi(string(q.Resume))
		if err != nil {
			return fmt.Errorf("fake guest: resume of %q: %w", q.Part, err)
		}
		h.pos = n
	}
	g.handles[q.Handle] = h
	return nil
}

// NextBatch emits the lines due by Now; it ends the partition at its end.
func (g *fakeGuest) NextBatch(_ context.Context, q abi.HandleRequest) (abi.NextBatch, error) {
	h := g.handles[q.Handle]
	p := g.w.parts[h.name]
	now := g.w.since(q.Now)
	var nb abi.NextBatch
	for h.pos < len(p.lines) && p.lines[h.pos].at <= now {
		nb.Batch.Append(nil, false, []byte(p.lines[h.pos].text))
		h.pos++
	}
	switch {
	case h.pos < len(p.lines):
		nb.Awake = g.w.t0.Add(p.lines[h.pos].at).UnixNano()
	case now >= p.end:
		nb.EOF = true
	default:
		nb.Awake = g.w.t0.Add(p.end).UnixNano()
	}
	nb.Batch = g.lend(nb.Batch)
	return nb, nil
}

// WriteBatch records what the sink partition got.
func (g *fakeGuest) WriteBatch(_ context.Context, q abi.WriteRequest) error {
	g.overwrite()
	h := g.handles[q.Handle]
	it := q.Batch.Iter()
	var item abi.Item
	for it.Next(&item) {
		h.pos++
		g.w.record(call{op: "write", worker: g.worker, key: h.name, text: string(item.Value)})
	}
	return it.Err()
}

// PartSnapshot is the partition's position in decimal.
func (g *fakeGuest) PartSnapshot(_ context.Context, q abi.HandleRequest) (abi.OptBytes, error) {
	g.overwrite()
	return abi.OptBytes{Present: true, B: []byte(strconv.Itoa(g.handles[q.Handle].pos))}, nil
}

// ClosePart forgets the partition.
func (g *fakeGuest) ClosePart(_ context.Context, q abi.HandleRequest) error {
	g.overwrite()
	delete(g.handles, q.Handle)
	return nil
}
