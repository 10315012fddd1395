package bx

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/bxwasm/bxwasm/guest-sdk/go/abi"
)

func splitWords(ls []string) []string {
	var ws []string
	for _, l := range ls {
		ws = append(ws, strings.Fields(l)...)
	}
	return ws
}

// sumLogic keeps a running sum per key, emits it on every batch and the
// final sum at EOF.
type sumLogic struct{ sum int }

func newSum(resume *int) StatefulBatchLogic[int, int, int] {
	l := &sumLogic{}
	if resume != nil {
		l.sum = *resume
	}
	return l
}

func (l *sumLogic) OnBatch(vs []int) ([]int, bool) {
	for _, v := range vs {
		l.sum += v
	}
	return []int{l.sum}, false
}
func (l *sumLogic) OnNotify() ([]int, bool)     { return nil, false }
func (l *sumLogic) OnEOF() ([]int, bool)        { return []int{-l.sum}, true }
func (l *sumLogic) NotifyAt() (time.Time, bool) { return time.Time{}, false }
func (l *sumLogic) Snapshot() int               { return l.sum }

func TestFlows(t *testing.T) {
	tests := []struct {
		name  string
		flow  func(got *[]string) *Dataflow
		steps []string
		want  []string
	}{{
		name: "flat map batch",
		flow: func(got *[]string) *Dataflow {
			f := NewDataflow("wc")
			lines := Input("inp", f, TestingSource([]string{"a b", "c", "", "d e f"}, 2))
			Output("out", FlatMapBatch("split", lines, splitWords), captureSink(got))
			return f
		},
		steps: []string{"wc.inp", "wc.split", "wc.out"},
		want:  []string{"a", "b", "c", "d", "e", "f"},
	}, {
		name: "branch",
		flow: func(got *[]string) *Dataflow {
			f := NewDataflow("br")
			nums := Input("inp", f, TestingSource([]int{1, 2, 3, 4, 5}, 3))
			even, odd := Branch("even", nums, func(n int) bool { return n%2 == 0 })
			tag := func(p string) func([]int) []string {
				return func(ns []int) []string {
					var out []string
					for _, n := range ns {
						out = append(out, fmt.Sprint(p, n))
					}
					return out
				}
			}
			Output("out", Merge("merge", FlatMapBatch("e", even, tag("e")), FlatMapBatch("o", odd, tag("o"))), captureSink(got))
			return f
		},
		steps: []string{"br.inp", "br.even", "br.e", "br.o", "br.merge", "br.out"},
		want:  []string{"e2", "o1", "o3", "e4", "o5"},
	}, {
		name: "merge and redistribute",
		flow: func(got *[]string) *Dataflow {
			f := NewDataflow("m")
			a := Input("a", f, TestingSource([]string{"a1", "a2"}, 1))
			b := Input("b", f, TestingSource([]string{"b1"}, 1))
			Output("out", Redistribute("spread", Merge("merge", a, b)), captureSink(got))
			return f
		},
		steps: []string{"m.a", "m.b", "m.merge", "m.spread", "m.out"},
		want:  []string{"a1", "b1", "a2"},
	}, {
		name: "inspect debug",
		flow: func(got *[]string) *Dataflow {
			f := NewDataflow("i")
			s := Input("inp", f, TestingSource([]string{"x", "y"}, 5))
			s = InspectDebug("look", s, func(id, item string, epoch uint64, worker int) {
				*got = append(*got, fmt.Sprintf("%s:%s:%d:%d", id, item, epoch, worker))
			})
			Output("out", s, captureSink(got))
			return f
		},
		steps: []string{"i.inp", "i.look", "i.out"},
		want:  []string{"i.look:x:1:0", "i.look:y:1:0", "x", "y"},
	}, {
		name: "stateful batch",
		flow: func(got *[]string) *Dataflow {
			f := NewDataflow("s")
			kv := Input("inp", f, TestingSource([]KV[int]{{"a", 1}, {"b", 10}, {"a", 2}, {"b", 20}, {"a", 3}}, 2))
			sums := StatefulBatch("sum", kv, newSum)
			Output("out", FlatMapBatch("fmt", sums, func(kvs []KV[int]) []string {
				var out []string
				for _, kv := range kvs {
					out = append(out, fmt.Sprintf("%s=%d", kv.Key, kv.Value))
				}
				return out
			}), captureSink(got))
			return f
		},
		steps: []string{"s.inp", "s.sum", "s.fmt", "s.out"},
		// batches [a1 b10] [a2 b20] [a3]; EOF in first-seen key order
		want: []string{"a=1", "b=10", "a=3", "b=30", "a=6", "a=-6", "b=-30"},
	}, {
		name: "nested scopes",
		flow: func(got *[]string) *Dataflow {
			f := NewDataflow("n")
			s := Input("inp", f, TestingSource([]string{"q"}, 1))
			sc, in := Enter("outer", s)
			sc2, in2 := Enter("inner", in)
			x := Exit(sc2, FlatMapBatch("flat_map_batch", in2, func(xs []string) []string { return append(xs, "r") }))
			y := FlatMapBatch("flat_map_batch", x, func(xs []string) []string { return xs })
			Output("out", Exit(sc, y), captureSink(got))
			return f
		},
		steps: []string{"n.inp", "n.outer.inner.flat_map_batch", "n.outer.flat_map_batch", "n.out"},
		want:  []string{"q", "r"},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			g := buildFlow(t, func() *Dataflow { return tt.flow(&got) })
			if ids := stepIDs(g); !reflect.DeepEqual(ids, tt.steps) {
				t.Errorf("steps = %q, want %q", ids, tt.steps)
			}
			simulate(t, g, simOpts{})
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestGraph(t *testing.T) {
	g := buildFlow(t, func() *Dataflow {
		f := NewDataflow("g")
		lines := Input("inp", f, FileSource("/in.txt"))
		yes, no := Branch("b", lines, func(string) bool { return true })
		Output("o1", yes, StdOutSink())
		Output("o2", Merge("m", no, Input("dir", f, DirSource("*.log")), Input("stdin", f, StdinSource())), FileSink("/out.txt"))
		return f
	})
	want := &abi.Graph{Flow: "g", Streams: 6, Steps: []abi.Step{
		{ID: "g.inp", Kind: abi.KindInput, Inputs: []uint32{}, Outputs: []uint32{0}, Conn: abi.ConnFile, Arg: "/in.txt"},
		{ID: "g.b", Kind: abi.KindBranch, Inputs: []uint32{0}, Outputs: []uint32{1, 2}},
		{ID: "g.o1", Kind: abi.KindOutput, Inputs: []uint32{1}, Outputs: []uint32{}, Conn: abi.ConnStdout},
		{ID: "g.dir", Kind: abi.KindInput, Inputs: []uint32{}, Outputs: []uint32{3}, Conn: abi.ConnDir, Arg: "*.log"},
		{ID: "g.stdin", Kind: abi.KindInput, Inputs: []uint32{}, Outputs: []uint32{4}, Conn: abi.ConnStdin},
		{ID: "g.m", Kind: abi.KindMerge, Inputs: []uint32{2, 3, 4}, Outputs: []uint32{5}},
		{ID: "g.o2", Kind: abi.KindOutput, Inputs: []uint32{5}, Outputs: []uint32{}, Conn: abi.ConnFile, Arg: "/out.txt"},
	}}
	if !reflect.DeepEqual(g, want) {
		t.Errorf("graph\n got %+v\nwant %+v", g, want)
	}
}
