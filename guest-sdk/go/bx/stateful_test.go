package bx

import (
	"io"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bxwasm/bxwasm/guest-sdk/go/abi"
)

// bufState is the JSON-encoded state of bufLogic.
type bufState struct {
	Vals []string
	Due  int64
}

// bufLogic collects values. "at:N" asks for a notification at Unix
// nanosecond N, "drop" discards the key, "boom" panics.
type bufLogic struct{ s bufState }

func newBuf(resume *bufState) StatefulBatchLogic[string, string, bufState] {
	l := &bufLogic{}
	if resume != nil {
		l.s = *resume
	}
	return l
}

func (l *bufLogic) OnBatch(vs []string) ([]string, bool) {
	for _, v := range vs {
		switch {
		case v == "boom":
			panic("boom value")
		case v == "drop":
			return []string{"dropped"}, true
		case strings.HasPrefix(v, "at:"):
			l.s.Due, _ = strconv.ParseInt(v[3:], 10, 64)
		}
		l.s.Vals = append(l.s.Vals, v)
	}
	return []string{strings.Join(vs, "+")}, false
}

func (l *bufLogic) OnNotify() ([]string, bool) {
	return []string{"notified:" + strings.Join(l.s.Vals, ",")}, true
}

func (l *bufLogic) OnEOF() ([]string, bool) {
	return []string{"eof:" + strings.Join(l.s.Vals, ",")}, false
}

func (l *bufLogic) NotifyAt() (time.Time, bool) {
	return time.Unix(0, l.s.Due), l.s.Due != 0
}

func (l *bufLogic) Snapshot() bufState {
	return bufState{Vals: append([]string(nil), l.s.Vals...), Due: l.s.Due}
}

func bufFlow() *Dataflow {
	f := NewDataflow("s")
	in := Input("inp", f, FileSource("x"))
	keyed := FlatMapBatch("key", in, func(xs []string) []KV[string] { return nil })
	StatefulBatch("buf", keyed, newBuf)
	StatefulBatch("nil", keyed, func(*int) StatefulBatchLogic[string, string, int] { return nil })
	return f
}

// keyedCall sends a stateful op and decodes the emits and key states.
func keyedCall(t *testing.T, op abi.Op, body encoder) ([]KV[string], []abi.KeyState) {
	t.Helper()
	r := call(t, op, body)
	u := abi.ReadKeyedUpdates(r)
	checkEnd(t, r)
	return valuesOf[KV[string]](t, u.Emits), u.Keys
}

func snapshotOf(t *testing.T, step uint32, keys ...string) []abi.KeySnap {
	t.Helper()
	r := call(t, abi.OpSnapshot, &abi.KeysRequest{Step: step, Keys: keys})
	s := abi.ReadSnapshots(r)
	checkEnd(t, r)
	if s.Step != step {
		t.Errorf("snapshot of step %d", s.Step)
	}
	return s.Items
}

func TestStatefulLifecycle(t *testing.T) {
	g := buildFlow(t, bufFlow)
	buf := stepIndex(t, g, "s.buf")
	type kv = KV[string]

	emits, keys := keyedCall(t, abi.OpStatefulBatch, &abi.StatefulRequest{Step: buf,
		Batch: batchOf(kv{"a", "x"}, kv{"b", "y"}, kv{"a", "at:100"}, kv{"c", "drop"}, kv{"c", "lost"})})
	wantEmits := []kv{{"a", "x+at:100"}, {"b", "y"}, {"c", "dropped"}}
	// Only keys whose timer changed or that were discarded are reported.
	wantKeys := []abi.KeyState{{Key: "a", NotifyAt: 100}, {Key: "c", Discard: true}}
	check(t, "batch emits", emits, wantEmits)
	check(t, "batch keys", keys, wantKeys)

	check(t, "snapshot", snapshotOf(t, buf, "a", "b", "c", "zz"), []abi.KeySnap{
		{Key: "a", Present: true, State: []byte(`{"Vals":["x","at:100"],"Due":100}`)},
		{Key: "b", Present: true, State: []byte(`{"Vals":["y"],"Due":0}`)},
		{Key: "c", State: []byte{}},
		{Key: "zz", State: []byte{}},
	})

	emits, keys = keyedCall(t, abi.OpNotify, &abi.KeysRequest{Step: buf, Keys: []string{"a", "zz"}})
	check(t, "notify emits", emits, []kv{{"a", "notified:x,at:100"}})
	check(t, "notify keys", keys, []abi.KeyState{{Key: "a", Discard: true}, {Key: "zz", Discard: true}})

	emits, keys = keyedCall(t, abi.OpStatefulBatch, &abi.StatefulRequest{Step: buf, Batch: batchOf(kv{"d", "1"}, kv{"a", "2"})})
	check(t, "rebuilt a", emits, []kv{{"d", "1"}, {"a", "2"}})
	check(t, "rebuilt keys", len(keys), 0)

	emits, keys = keyedCall(t, abi.OpEOF, &abi.StepRequest{Step: buf})
	check(t, "eof emits in first-seen order", emits, []kv{{"b", "eof:y"}, {"d", "eof:1"}, {"a", "eof:2"}})
	check(t, "eof keys", len(keys), 0)

	call(t, abi.OpRestore, &abi.Snapshots{Step: buf, Items: []abi.KeySnap{
		{Key: "r", Present: true, State: []byte(`{"Vals":["old"],"Due":5}`)},
		{Key: "b"}, {Key: "d"},
	}})
	emits, keys = keyedCall(t, abi.OpEOF, &abi.StepRequest{Step: buf})
	check(t, "eof after restore", emits, []kv{{"a", "eof:2"}, {"r", "eof:old"}})
	check(t, "eof keys after restore", keys, []abi.KeyState{{Key: "r", NotifyAt: 5}})
}

func check[T any](t *testing.T, what string, got, want T) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s:\n got %+v\nwant %+v", what, got, want)
	}
}

func TestStatefulErrors(t *testing.T) {
	g := buildFlow(t, bufFlow)
	buf, nilStep := stepIndex(t, g, "s.buf"), stepIndex(t, g, "s.nil")
	tests := []struct {
		name   string
		op     abi.Op
		body   encoder
		want   string
		step   int
		hasKey bool
		key    string
	}{
		{"panic in on_batch", abi.OpStatefulBatch, &abi.StatefulRequest{Step: buf, Batch: batchOf(KV[string]{"ok", "1"}, KV[string]{"k", "boom"})},
			`error calling on_batch in step s.buf for key "k": boom value`, int(buf), true, "k"},
		{"item without key", abi.OpStatefulBatch, &abi.StatefulRequest{Step: buf, Batch: batchOf("nokey")},
			"decoding an item for step s.buf: bx: cannot decode value: item of a keyed stream has no key", int(buf), false, ""},
		{"nil logic", abi.OpStatefulBatch, &abi.StatefulRequest{Step: nilStep, Batch: batchOf(KV[string]{"n", "1"})},
			`builder returned a nil logic for key "n" in step s.nil`, int(nilStep), true, "n"},
		{"not stateful", abi.OpStatefulBatch, &abi.StatefulRequest{Step: 1}, "step 1 (s.key) is a flat_map_batch step, not stateful_batch", -1, false, ""},
		{"out of range", abi.OpEOF, &abi.StepRequest{Step: 40}, "step index 40, the flow has 4 steps", -1, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := callErr(t, tt.op, tt.body)
			if !strings.Contains(e.Message, tt.want) {
				t.Errorf("message %q does not contain %q", e.Message, tt.want)
			}
			if e.Step != tt.step || e.HasKey != tt.hasKey || e.Key != tt.key {
				t.Errorf("located at step %d key %v %q, want %d %v %q", e.Step, e.HasKey, e.Key, tt.step, tt.hasKey, tt.key)
			}
		})
	}
}

func TestUnixNanos(t *testing.T) {
	tests := []struct {
		name string
		at   time.Time
		want int64
	}{
		{"normal", time.Unix(10, 5), 10_000_000_005},
		{"zero time is asap", time.Time{}, 1},
		{"epoch is asap", time.Unix(0, 0), 1},
		{"before 1970", time.Unix(-5, 0), 1},
		{"far future", time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC), 1<<63 - 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := unixNanos(tt.at); got != tt.want {
				t.Errorf("unixNanos(%v) = %d, want %d", tt.at, got, tt.want)
			}
		})
	}
}

// timerLogic emits a tick each time it is notified, every 10s after its
// first value, three times; then it asks for no more notifications.
type timerLogic struct {
	next  time.Time
	ticks int
}

func (l *timerLogic) OnBatch(vs []string) ([]string, bool) {
	if l.ticks == 0 && l.next.IsZero() {
		l.next = time.Date(2024, 1, 1, 0, 0, 10, 0, time.UTC)
	}
	return nil, false
}

func (l *timerLogic) OnNotify() ([]string, bool) {
	l.ticks++
	l.next = l.next.Add(10 * time.Second)
	if l.ticks == 3 {
		l.next = time.Time{}
	}
	return []string{"tick" + strconv.Itoa(l.ticks)}, false
}

func (l *timerLogic) OnEOF() ([]string, bool)     { return []string{"eof"}, true }
func (l *timerLogic) NotifyAt() (time.Time, bool) { return l.next, !l.next.IsZero() }
func (l *timerLogic) Snapshot() int               { return l.ticks }

// slowSource emits one item per awake, 5s apart, ten times.
type slowSource struct{}

func (slowSource) ListParts() []string { return []string{"p"} }
func (slowSource) BuildPart(_, _ string, _ *int) StatefulSourcePartition[KV[string], int] {
	return &slowPart{}
}

type slowPart struct{ n int }

func (p *slowPart) NextBatch() ([]KV[string], error) {
	p.n++
	if p.n == 10 {
		return nil, io.EOF
	}
	return []KV[string]{{"k", "v"}}, nil
}
func (p *slowPart) NextAwake() (time.Time, bool) {
	return time.Date(2024, 1, 1, 0, 0, 5*p.n, 0, time.UTC), true
}
func (p *slowPart) Snapshot() int { return p.n }
func (p *slowPart) Close()        {}

func TestNotifyThroughSim(t *testing.T) {
	var got []KV[string]
	runFlow(t, func() *Dataflow {
		f := NewDataflow("t")
		in := Input("inp", f, PartitionedSource[KV[string], int](slowSource{}))
		ticks := StatefulBatch("timer", in, func(*int) StatefulBatchLogic[string, string, int] { return &timerLogic{} })
		Output("out", ticks, captureSink(&got))
		return f
	}, simOpts{})
	// 45s of input; ticks at 10, 20 and 30s, then none until EOF
	check(t, "ticks", got, []KV[string]{{"k", "tick1"}, {"k", "tick2"}, {"k", "tick3"}, {"k", "eof"}})
}

// TestBadRestoreStateFailsOnFirstUse restores a state that does not decode:
// restore keeps it encoded, and the key's first use reports it, by key.
func TestBadRestoreStateFailsOnFirstUse(t *testing.T) {
	g := buildFlow(t, bufFlow)
	buf := stepIndex(t, g, "s.buf")
	call(t, abi.OpRestore, &abi.Snapshots{Step: buf, Items: []abi.KeySnap{{Key: "z", Present: true, State: []byte("{")}}})
	e := callErr(t, abi.OpStatefulBatch, &abi.StatefulRequest{Step: buf, Batch: batchOf(KV[string]{"z", "1"})})
	if want := `decoding the state of key "z" in step s.buf`; !strings.Contains(e.Message, want) {
		t.Errorf("message %q does not contain %q", e.Message, want)
	}
}
