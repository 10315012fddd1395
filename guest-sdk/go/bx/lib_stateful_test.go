package bx

import (
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bxwasm/bxwasm/guest-sdk/go/abi"
)

// runningCount is Bytewax's stateful_map example: a count per key.
func runningCount(state *int, _ string) (*int, int) {
	n := 1
	if state != nil {
		n = *state + 1
	}
	return &n, n
}

// countToTwo emits "<v><n>" and, on the second value of a key, "reset"
// and discards the key.
func countToTwo(state *int, v string) (*int, []string) {
	n := 1
	if state != nil {
		n = *state + 1
	}
	out := []string{v + strconv.Itoa(n)}
	if n == 2 {
		return nil, append(out, "reset")
	}
	return &n, out
}

func TestStatefulMapOps(t *testing.T) {
	self := func(s string) string { return s }
	runLibCases(t, []libCase{{
		name: "stateful map running count",
		flow: func(f *Dataflow) func() []string {
			s := KeyOn("key", Input("inp", f, TestingSource(strs("a", "a", "a", "b", "a"), 2)), self)
			return outputOf(StatefulMap("count", s, runningCount))
		},
		steps: strs("f.inp", "f.key.map.flat_map_batch", "f.count.stateful_flat_map.stateful.stateful_batch", "f.out"),
		want:  strs("a=1", "a=2", "a=3", "b=1", "a=4"),
	}, {
		name: "stateful flat map discards within a batch",
		flow: func(f *Dataflow) func() []string {
			s := KeyOn("key", Input("inp", f, TestingSource(strs("a", "a", "a", "b"), 4)), self)
			return outputOf(StatefulFlatMap("two", s, countToTwo))
		},
		steps: strs("f.inp", "f.key.map.flat_map_batch", "f.two.stateful.stateful_batch", "f.out"),
		want:  strs("a=a1", "a=a2", "a=reset", "a=a1", "b=b1"),
	}})
}

func TestStatefulMapResume(t *testing.T) {
	name := register(func() *Dataflow {
		f := NewDataflow("f")
		s := Input("inp", f, TestingSource(kvs[string](), 1))
		Output("out", StatefulMap("count", s, runningCount), captureSink(new([]KV[int])))
		return f
	})
	g := buildNamed(t, name)
	st := stepIndex(t, g, "f.count.stateful_flat_map.stateful.stateful_batch")
	checkKeyed(t, "batch", sendBatch[string, int](t, st, kv("a", "x"), kv("b", "x"), kv("a", "x")),
		strs("a=1", "a=2", "b=1"), nil)
	snaps := snapshotKeys(t, st, "a", "c")
	want := []abi.KeySnap{{Key: "a", Present: true, State: []byte{4}}, {Key: "c"}} // zig-zag varint 2
	if len(snaps.Items) != 2 || snaps.Items[0].Key != "a" || string(snaps.Items[0].State) != string(want[0].State) || snaps.Items[1].Present {
		t.Fatalf("snapshot = %+v, want %+v", snaps.Items, want)
	}
	buildNamed(t, name) // a fresh instance of the flow
	restoreKeys(t, snaps)
	checkKeyed(t, "after restore", sendBatch[string, int](t, st, kv("a", "x"), kv("c", "x")),
		strs("a=3", "c=1"), nil)
	checkKeyed(t, "eof keeps states", sendEOF[int](t, st), nil, nil)
}

// sumItemLogic is a StatefulLogic summing a key's values: a negative value
// emits the sum and discards the key; it asks to be notified at base plus
// the sum in seconds; OnNotify emits "n<sum>", OnEOF "e<sum>" and discards.
type sumItemLogic struct {
	base time.Time
	sum  int
}

func (l *sumItemLogic) OnItem(v int) ([]string, bool) {
	l.sum += v
	if v < 0 {
		return strs(strconv.Itoa(l.sum)), true
	}
	return nil, false
}
func (l *sumItemLogic) OnNotify() ([]string, bool) { return strs("n" + strconv.Itoa(l.sum)), false }
func (l *sumItemLogic) OnEOF() ([]string, bool)    { return strs("e" + strconv.Itoa(l.sum)), true }
func (l *sumItemLogic) NotifyAt() (time.Time, bool) {
	return l.base.Add(time.Duration(l.sum) * time.Second), true
}
func (l *sumItemLogic) Snapshot() int { return l.sum }

func TestStateful(t *testing.T) {
	clk := newFakeClock()
	at := func(sec int) int64 { return clk.at(time.Duration(sec) * time.Second) }
	name := register(func() *Dataflow {
		f := NewDataflow("f")
		s := Input("inp", f, TestingSource(kvs[int](), 1))
		out := Stateful("sum", s, func(resume *int) StatefulLogic[int, string, int] {
			l := &sumItemLogic{base: clk.now}
			if resume != nil {
				l.sum = *resume
			}
			return l
		})
		Output("out", out, captureSink(new([]KV[string])))
		return f
	})
	g := buildNamed(t, name)
	if ids := stepIDs(g); !slices.Equal(ids, strs("f.inp", "f.sum.stateful_batch", "f.out")) {
		t.Errorf("steps = %q", ids)
	}
	st := stepIndex(t, g, "f.sum.stateful_batch")
	checkKeyed(t, "batch 1", sendBatch[int, string](t, st, kv("a", 1), kv("a", 2), kv("b", 5)),
		nil, []abi.KeyState{ks("a", at(3)), ks("b", at(5))})
	checkKeyed(t, "discard then rebuild in one batch", sendBatch[int, string](t, st, kv("a", -1), kv("a", 4)),
		strs("a=2"), []abi.KeyState{ks("a", at(4))})
	checkKeyed(t, "discard at the end of a batch", sendBatch[int, string](t, st, kv("b", 1), kv("b", -2)),
		strs("b=4"), []abi.KeyState{gone("b")})
	checkKeyed(t, "notify", sendNotify[string](t, st, "a", "b"),
		strs("a=n4"), []abi.KeyState{ks("a", at(4)), gone("b")})
	snaps := snapshotKeys(t, st, "a")
	checkKeyed(t, "eof", sendEOF[string](t, st), strs("a=e4"), []abi.KeyState{gone("a")})
	if got := snapshotKeys(t, st, "a"); got.Items[0].Present {
		t.Errorf("snapshot after eof = %+v, want a tombstone", got.Items)
	}
	restoreKeys(t, snaps)
	checkKeyed(t, "after restore", sendBatch[int, string](t, st, kv("a", 1)), nil, []abi.KeyState{ks("a", at(5))})
}

func TestStatefulNilLogic(t *testing.T) {
	tests := []struct {
		name  string
		build func(calls *int) func(*int) StatefulLogic[int, string, int]
		in    []KV[int]
		want  string
	}{{
		name: "builder returns nil for a new key",
		build: func(*int) func(*int) StatefulLogic[int, string, int] {
			return func(*int) StatefulLogic[int, string, int] { return nil }
		},
		in:   kvs(kv("a", 1)),
		want: `bx: builder returned a nil logic for key "a" in step f.st.stateful_batch`,
	}, {
		name: "builder returns nil when rebuilding within a batch",
		build: func(calls *int) func(*int) StatefulLogic[int, string, int] {
			return func(*int) StatefulLogic[int, string, int] {
				if *calls++; *calls > 1 {
					return nil
				}
				return &sumItemLogic{}
			}
		},
		in:   kvs(kv("a", -1), kv("a", 1)),
		want: `error calling on_batch in step f.st.stateful_batch for key "a": bx: builder returned a nil logic`,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls := 0
			g := buildFlow(t, func() *Dataflow {
				f := NewDataflow("f")
				s := Input("inp", f, TestingSource(kvs[int](), 1))
				Output("out", Stateful("st", s, tt.build(&calls)), captureSink(new([]KV[string])))
				return f
			})
			st := stepIndex(t, g, "f.st.stateful_batch")
			e := callErr(t, abi.OpStatefulBatch, &abi.StatefulRequest{Step: st, Batch: batchOf(tt.in...)})
			if e.Message != tt.want || e.Step != int(st) {
				t.Errorf("error = %q at step %d, want %q at step %d", e.Message, e.Step, tt.want, st)
			}
		})
	}
}

func TestStatefulMapPanic(t *testing.T) {
	g := buildFlow(t, func() *Dataflow {
		f := NewDataflow("f")
		s := Input("inp", f, TestingSource(kvs[string](), 1))
		out := StatefulMap("sm", s, func(_ *int, v string) (*int, string) {
			if v == "bad" {
				panic("boom")
			}
			return new(int), v
		})
		Output("out", out, captureSink(new([]KV[string])))
		return f
	})
	st := stepIndex(t, g, "f.sm.stateful_flat_map.stateful.stateful_batch")
	e := callErr(t, abi.OpStatefulBatch, &abi.StatefulRequest{Step: st, Batch: batchOf(kv("k", "ok"), kv("k", "bad"))})
	want := `error calling on_batch in step f.sm.stateful_flat_map.stateful.stateful_batch for key "k": boom`
	if e.Message != want || !e.HasKey || e.Key != "k" || e.Step != int(st) || !strings.Contains(e.Stack, "lib_stateful_test.go") {
		t.Errorf("error = %+v, want %q", e, want)
	}
}
