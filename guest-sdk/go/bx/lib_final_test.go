package bx

import (
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/bxwasm/bxwasm/guest-sdk/go/abi"
)

func TestFinalOps(t *testing.T) {
	byLen := func(s string) int { return len(s) }
	runLibCases(t, []libCase{{
		name: "fold final",
		flow: func(f *Dataflow) func() []string {
			s := Input("inp", f, TestingSource(kvs(kv("a", 1), kv("b", 2), kv("a", 3)), 2))
			return outputOf(FoldFinal("fold", s, func() string { return ">" }, func(acc string, v int) string {
				return acc + strconv.Itoa(v)
			}))
		},
		steps: strs("f.inp", "f.fold.stateful.stateful_batch", "f.out"),
		want:  strs("a=>13", "b=>2"),
	}, {
		name: "reduce final keeps value order",
		flow: func(f *Dataflow) func() []string {
			in := kvs(kv("a", "x"), kv("b", "1"), kv("a", "y"), kv("a", "z"), kv("b", "2"))
			s := Input("inp", f, TestingSource(in, 2))
			return outputOf(ReduceFinal("cat", s, func(a, b string) string { return a + b }))
		},
		steps: strs("f.inp", "f.cat.pre_reduce", "f.cat.fold_final.stateful.stateful_batch", "f.out"),
		want:  strs("a=xyz", "b=12"),
	}, {
		name: "count final",
		flow: func(f *Dataflow) func() []string {
			s := Input("inp", f, TestingSource(strings.Fields("a b a c a b"), 4))
			return outputOf(CountFinal("count", s, func(w string) string { return w }))
		},
		steps: strs("f.inp", "f.count.init_count.flat_map_batch", "f.count.sum.pre_reduce",
			"f.count.sum.fold_final.stateful.stateful_batch", "f.out"),
		want: strs("a=3", "b=2", "c=1"),
	}, {
		name: "max final",
		flow: func(f *Dataflow) func() []string {
			s := Input("inp", f, TestingSource(kvs(kv("a", 3), kv("a", 7), kv("b", -1), kv("a", 5)), 3))
			return outputOf(MaxFinal("max", s))
		},
		steps: strs("f.inp", "f.max.reduce_final.pre_reduce", "f.max.reduce_final.fold_final.stateful.stateful_batch", "f.out"),
		want:  strs("a=7", "b=-1"),
	}, {
		name: "min final",
		flow: func(f *Dataflow) func() []string {
			s := Input("inp", f, TestingSource(kvs(kv("a", 3.5), kv("a", 7.0), kv("b", -1.0), kv("a", 5.0)), 1))
			return outputOf(MinFinal("min", s))
		},
		steps: strs("f.inp", "f.min.reduce_final.pre_reduce", "f.min.reduce_final.fold_final.stateful.stateful_batch", "f.out"),
		want:  strs("a=3.5", "b=-1"),
	}, {
		name: "max final by, first of equals wins",
		flow: func(f *Dataflow) func() []string {
			s := Input("inp", f, TestingSource(kvs(kv("a", "xx"), kv("a", "z"), kv("a", "yy"), kv("b", "q")), 2))
			return outputOf(MaxFinalBy("longest", s, byLen))
		},
		steps: strs("f.inp", "f.longest.reduce_final.pre_reduce", "f.longest.reduce_final.fold_final.stateful.stateful_batch", "f.out"),
		want:  strs("a=xx", "b=q"),
	}, {
		name: "min final by, first of equals wins",
		flow: func(f *Dataflow) func() []string {
			s := Input("inp", f, TestingSource(kvs(kv("a", "xx"), kv("a", "z"), kv("a", "w")), 1))
			return outputOf(MinFinalBy("shortest", s, byLen))
		},
		steps: strs("f.inp", "f.shortest.reduce_final.pre_reduce", "f.shortest.reduce_final.fold_final.stateful.stateful_batch", "f.out"),
		want:  strs("a=z"),
	}})
}

// TestFinalOpsEmitOnlyAtEOF drives the stateful step of each *_final
// operator: values emit nothing and keep their keys without timers, EOF
// emits one value per key and discards it, and a snapshot taken before EOF
// resumes the aggregate in a fresh instance.
func TestFinalOpsEmitOnlyAtEOF(t *testing.T) {
	tests := []struct {
		name    string
		op      func(s *Stream[KV[int]]) *Stream[KV[int]]
		step    string
		in      []KV[int]
		eof     []string
		resumed []string // EOF after restoring and one more value 10 for a
	}{{
		name: "fold final",
		op: func(s *Stream[KV[int]]) *Stream[KV[int]] {
			return FoldFinal("op", s, func() int { return 100 }, func(acc, v int) int { return acc + v })
		},
		step:    "f.op.stateful.stateful_batch",
		in:      kvs(kv("a", 1), kv("b", 2), kv("a", 3)),
		eof:     strs("a=104", "b=102"),
		resumed: strs("a=114"),
	}, {
		name: "reduce final",
		op: func(s *Stream[KV[int]]) *Stream[KV[int]] {
			return ReduceFinal("op", s, func(a, b int) int { return a * b })
		},
		step:    "f.op.fold_final.stateful.stateful_batch",
		in:      kvs(kv("a", 2), kv("b", 5), kv("a", 3)),
		eof:     strs("a=6", "b=5"),
		resumed: strs("a=60"),
	}, {
		name: "count final",
		op: func(s *Stream[KV[int]]) *Stream[KV[int]] {
			return CountFinal("op", s, func(kv KV[int]) string { return kv.Key })
		},
		step:    "f.op.sum.fold_final.stateful.stateful_batch",
		in:      kvs(kv("a", 1), kv("b", 1), kv("a", 1)),
		eof:     strs("a=2", "b=1"),
		resumed: strs("a=12"),
	}, {
		name:    "max final",
		op:      func(s *Stream[KV[int]]) *Stream[KV[int]] { return MaxFinal("op", s) },
		step:    "f.op.reduce_final.fold_final.stateful.stateful_batch",
		in:      kvs(kv("a", 12), kv("b", 5), kv("a", 3)),
		eof:     strs("a=12", "b=5"),
		resumed: strs("a=12"),
	}, {
		name:    "min final",
		op:      func(s *Stream[KV[int]]) *Stream[KV[int]] { return MinFinal("op", s) },
		step:    "f.op.reduce_final.fold_final.stateful.stateful_batch",
		in:      kvs(kv("a", 12), kv("b", 5), kv("a", 3)),
		eof:     strs("a=3", "b=5"),
		resumed: strs("a=3"),
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			name := register(func() *Dataflow {
				f := NewDataflow("f")
				s := Input("inp", f, TestingSource(kvs[int](), 1))
				Output("out", tt.op(s), captureSink(new([]KV[int])))
				return f
			})
			st := stepIndex(t, buildNamed(t, name), tt.step)
			checkKeyed(t, "batch", sendBatch[int, int](t, st, tt.in...), nil, nil) // no timers, nothing to report
			snaps := snapshotKeys(t, st, "a")
			checkKeyed(t, "eof", sendEOF[int](t, st), tt.eof, []abi.KeyState{gone("a"), gone("b")})
			checkKeyed(t, "second eof", sendEOF[int](t, st), nil, nil)

			buildNamed(t, name)
			restoreKeys(t, snaps)
			checkKeyed(t, "batch after restore", sendBatch[int, int](t, st, kv("a", 10)), nil, nil)
			checkKeyed(t, "eof after restore", sendEOF[int](t, st), tt.resumed, []abi.KeyState{gone("a")})
		})
	}
}

func TestPreReduce(t *testing.T) {
	sum := preReduce(func(a, b int) int { return a + b })
	tests := []struct {
		name string
		in   []KV[int]
		want []string
	}{
		{name: "empty", in: nil, want: nil},
		{name: "first-seen key order", in: kvs(kv("b", 1), kv("a", 2), kv("b", 3), kv("c", 4), kv("a", 5)), want: strs("b=4", "a=7", "c=4")},
	}
	// Every case runs into a fresh slice and then into the slice the
	// previous case returned, as a chain that reuses its buffers does.
	var reused []KV[int]
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := fmtAll(sum(tt.in, nil)); !slices.Equal(got, tt.want) {
				t.Errorf("fresh: got %q, want %q", got, tt.want)
			}
			reused = sum(tt.in, reused[:0])
			if got := fmtAll(reused); !slices.Equal(got, tt.want) {
				t.Errorf("reused: got %q, want %q", got, tt.want)
			}
		})
	}
}

// TestFinalResumeOrder checks the *_final step around resume: restored
// keys not used since are emitted at EOF in building order among the new
// ones, a restore replaces a live key's state and a tombstone drops it,
// and a notification for a key without state discards it.
func TestFinalResumeOrder(t *testing.T) {
	name := register(func() *Dataflow {
		f := NewDataflow("f")
		s := Input("inp", f, TestingSource(kvs[int](), 1))
		Output("out", ReduceFinal("op", s, func(a, b int) int { return a + b }), captureSink(new([]KV[int])))
		return f
	})
	st := stepIndex(t, buildNamed(t, name), "f.op.fold_final.stateful.stateful_batch")
	state := func(key string, n int) abi.KeySnap {
		b, _ := valueCodecOf[int]().enc(nil, n)
		return abi.KeySnap{Key: key, Present: true, State: b}
	}
	restoreKeys(t, abi.Snapshots{Step: st, Items: []abi.KeySnap{state("r1", 5), state("r2", 7)}})
	checkKeyed(t, "batch", sendBatch[int, int](t, st, kv("n", 1), kv("r2", 1), kv("x", 1), kv("y", 1)), nil, nil)
	restoreKeys(t, abi.Snapshots{Step: st, Items: []abi.KeySnap{state("x", 40), {Key: "y"}}})
	checkKeyed(t, "batch after restore", sendBatch[int, int](t, st, kv("x", 2)), nil, nil)
	checkKeyed(t, "notify", sendNotify[int](t, st, "zz", "n"), nil, []abi.KeyState{gone("zz")})
	checkKeyed(t, "eof", sendEOF[int](t, st), strs("r1=5", "r2=8", "n=1", "x=42"),
		[]abi.KeyState{gone("r1"), gone("r2"), gone("n"), gone("x")})
}

// TestFinalErrorsNameTheKey checks that a panic of a fold's builder or
// folder names the function, the step and the key.
func TestFinalErrorsNameTheKey(t *testing.T) {
	built := 0
	tests := []struct {
		name    string
		builder func() int
		want    string
	}{
		{"folder", func() int { return 0 }, `error calling on_batch in step f.op.stateful.stateful_batch for key "k": bad value`},
		{"builder", func() int {
			if built++; built > 1 {
				panic("no start") // once "k" is built
			}
			return 0
		}, `error calling builder in step f.op.stateful.stateful_batch for key "ok": no start`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := buildFlow(t, func() *Dataflow {
				f := NewDataflow("f")
				s := Input("inp", f, TestingSource(kvs[int](), 1))
				out := FoldFinal("op", s, tt.builder, func(acc, v int) int {
					if v < 0 {
						panic("bad value")
					}
					return acc + v
				})
				Output("out", out, captureSink(new([]KV[int])))
				return f
			})
			st := stepIndex(t, g, "f.op.stateful.stateful_batch")
			sendBatch[int, int](t, st, kv("k", 1)) // "k" is live when it fails below
			e := callErr(t, abi.OpStatefulBatch, &abi.StatefulRequest{Step: st, Batch: batchOf(kv("ok", 1), kv("k", -1))})
			if e.Message != tt.want {
				t.Errorf("error %q, want %q", e.Message, tt.want)
			}
		})
	}
}
