package bx

import (
	"bytes"
	"strconv"
	"strings"
	"testing"

	"github.com/bxwasm/bxwasm/guest-sdk/go/abi"
)

func TestStatelessOps(t *testing.T) {
	runLibCases(t, []libCase{{
		name: "map",
		flow: func(f *Dataflow) func() []string {
			s := Input("inp", f, TestingSource(ints(0, 1, 2), 2))
			return outputOf(Map("add", s, func(x int) int { return x + 10 }))
		},
		steps: strs("f.inp", "f.add.flat_map_batch", "f.out"),
		want:  strs("10", "11", "12"),
	}, {
		name: "map changes type",
		flow: func(f *Dataflow) func() []string {
			s := Input("inp", f, TestingSource(ints(7, 8), 1))
			return outputOf(Map("str", s, strconv.Itoa))
		},
		steps: strs("f.inp", "f.str.flat_map_batch", "f.out"),
		want:  strs("7", "8"),
	}, {
		name: "map value",
		flow: func(f *Dataflow) func() []string {
			s := Input("inp", f, TestingSource(kvs(kv("a", 1), kv("b", 2)), 2))
			return outputOf(MapValue("double", s, func(v int) string { return strings.Repeat("x", v) }))
		},
		steps: strs("f.inp", "f.double.map.flat_map_batch", "f.out"),
		want:  strs("a=x", "b=xx"),
	}, {
		name: "filter",
		flow: func(f *Dataflow) func() []string {
			s := Input("inp", f, TestingSource(ints(0, 1, 2, 3), 3))
			return outputOf(Filter("odd", s, func(x int) bool { return x%2 != 0 }))
		},
		steps: strs("f.inp", "f.odd.flat_map.flat_map_batch", "f.out"),
		want:  strs("1", "3"),
	}, {
		name: "filter drops all",
		flow: func(f *Dataflow) func() []string {
			s := Input("inp", f, TestingSource(ints(1, 2), 2))
			return outputOf(Filter("none", s, func(int) bool { return false }))
		},
		steps: strs("f.inp", "f.none.flat_map.flat_map_batch", "f.out"),
		want:  strs(),
	}, {
		name: "filter value",
		flow: func(f *Dataflow) func() []string {
			s := Input("inp", f, TestingSource(kvs(kv("a", 1), kv("b", 5), kv("c", 3)), 2))
			return outputOf(FilterValue("big", s, func(v int) bool { return v > 2 }))
		},
		steps: strs("f.inp", "f.big.filter.flat_map.flat_map_batch", "f.out"),
		want:  strs("b=5", "c=3"),
	}, {
		name: "filter map",
		flow: func(f *Dataflow) func() []string {
			s := Input("inp", f, TestingSource(strs("1", "x", "3"), 2))
			return outputOf(FilterMap("parse", s, func(s string) (int, bool) {
				n, err := strconv.Atoi(s)
				return n * 2, err == nil
			}))
		},
		steps: strs("f.inp", "f.parse.flat_map.flat_map_batch", "f.out"),
		want:  strs("2", "6"),
	}, {
		name: "filter map value",
		flow: func(f *Dataflow) func() []string {
			s := Input("inp", f, TestingSource(kvs(kv("a", "1"), kv("b", "?")), 2))
			return outputOf(FilterMapValue("parse", s, func(s string) (int, bool) {
				n, err := strconv.Atoi(s)
				return n, err == nil
			}))
		},
		steps: strs("f.inp", "f.parse.flat_map_value.flat_map.flat_map_batch", "f.out"),
		want:  strs("a=1"),
	}, {
		name: "flat map",
		flow: func(f *Dataflow) func() []string {
			s := Input("inp", f, TestingSource(strs("hello world", "", "bye"), 2))
			return outputOf(FlatMap("split", s, strings.Fields))
		},
		steps: strs("f.inp", "f.split.flat_map_batch", "f.out"),
		want:  strs("hello", "world", "bye"),
	}, {
		name: "flat map value",
		flow: func(f *Dataflow) func() []string {
			s := Input("inp", f, TestingSource(kvs(kv("a", 2), kv("b", 0), kv("c", 1)), 3))
			return outputOf(FlatMapValue("repeat", s, func(n int) []int {
				out := []int{}
				for i := range n {
					out = append(out, i)
				}
				return out
			}))
		},
		steps: strs("f.inp", "f.repeat.flat_map.flat_map_batch", "f.out"),
		want:  strs("a=0", "a=1", "c=0"),
	}, {
		name: "flatten",
		flow: func(f *Dataflow) func() []string {
			s := Input("inp", f, TestingSource([][]int{{1, 2}, nil, {3}}, 2))
			return outputOf(Flatten("flat", s))
		},
		steps: strs("f.inp", "f.flat.flat_map.flat_map_batch", "f.out"),
		want:  strs("1", "2", "3"),
	}, {
		name: "key on",
		flow: func(f *Dataflow) func() []string {
			s := Input("inp", f, TestingSource(strs("apple", "bob"), 2))
			return outputOf(KeyOn("first", s, func(s string) string { return s[:1] }))
		},
		steps: strs("f.inp", "f.first.map.flat_map_batch", "f.out"),
		want:  strs("a=apple", "b=bob"),
	}, {
		name: "key rm",
		flow: func(f *Dataflow) func() []string {
			s := Input("inp", f, TestingSource(kvs(kv("a", 1), kv("b", 2)), 1))
			return outputOf(KeyRm("rm", s))
		},
		steps: strs("f.inp", "f.rm.map.flat_map_batch", "f.out"),
		want:  strs("1", "2"),
	}, {
		name: "inspect",
		flow: func(f *Dataflow) func() []string {
			var seen []string
			s := Input("inp", f, TestingSource(ints(1, 2), 2))
			Output("out", Inspect("look", s, func(id string, x int) {
				seen = append(seen, id+": "+strconv.Itoa(x))
			}), captureSink(new([]int)))
			return func() []string { return seen }
		},
		steps: strs("f.inp", "f.look.inspect_debug", "f.out"),
		want:  strs("f.look: 1", "f.look: 2"),
	}, {
		name: "chained ops in one operator scope each",
		flow: func(f *Dataflow) func() []string {
			s := Input("inp", f, TestingSource(strs("a b", "c"), 1))
			words := FlatMap("split", s, strings.Fields)
			upper := Map("upper", words, strings.ToUpper)
			return outputOf(KeyOn("key", Filter("not_b", upper, func(w string) bool { return w != "B" }), strings.ToLower))
		},
		steps: strs("f.inp", "f.split.flat_map_batch", "f.upper.flat_map_batch",
			"f.not_b.flat_map.flat_map_batch", "f.key.map.flat_map_batch", "f.out"),
		want: strs("a=A", "c=C"),
	}})
}

func TestPrintInspector(t *testing.T) {
	tests := []struct {
		name string
		item any
		want string
	}{
		{name: "int", item: 3, want: "f.look: 3\n"},
		{name: "string", item: "hi", want: "f.look: hi\n"},
		{name: "keyed", item: kv("k", 1.5), want: "f.look: {k 1.5}\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			printInspector[any](&buf)("f.look", tt.item)
			if buf.String() != tt.want {
				t.Errorf("printed %q, want %q", buf.String(), tt.want)
			}
		})
	}
}

func TestStatelessOpsInspectDefaultBuilds(t *testing.T) {
	g := buildFlow(t, func() *Dataflow {
		f := NewDataflow("f")
		Output("out", Inspect("look", Input("inp", f, TestingSource(ints(1), 1)), nil), captureSink(new([]int)))
		return f
	})
	if got := stepIDs(g); len(got) != 3 || got[1] != "f.look.inspect_debug" {
		t.Errorf("steps = %q", got)
	}
}

func TestLibBuildErrors(t *testing.T) {
	tests := []struct {
		name string
		flow func(f *Dataflow, s *Stream[KV[int]])
		want string
	}{
		{name: "nil mapper", flow: func(_ *Dataflow, s *Stream[KV[int]]) { Map[KV[int], int]("m", s, nil) },
			want: `nil argument: Map "m" needs a function`},
		{name: "nil predicate", flow: func(_ *Dataflow, s *Stream[KV[int]]) { FilterValue("fv", s, nil) },
			want: `nil argument: FilterValue "fv" needs a function`},
		{name: "nil key", flow: func(_ *Dataflow, s *Stream[KV[int]]) { CountFinal("c", s, nil) },
			want: `nil argument: CountFinal "c" needs a function`},
		{name: "nil folder", flow: func(_ *Dataflow, s *Stream[KV[int]]) { FoldFinal[int, int]("ff", s, func() int { return 0 }, nil) },
			want: `nil argument: FoldFinal "ff" needs a function`},
		{name: "nil stateful builder", flow: func(_ *Dataflow, s *Stream[KV[int]]) { Stateful[int, int, int]("st", s, nil) },
			want: `nil argument: Stateful "st" needs a function`},
		{name: "duplicate operator id", flow: func(_ *Dataflow, s *Stream[KV[int]]) {
			KeyRm("op", s)
			MaxFinal("op", s)
		}, want: `duplicate step id "f.op"`},
		{name: "operator id with a dot", flow: func(_ *Dataflow, s *Stream[KV[int]]) { KeyRm("a.b", s) },
			want: `bad step id "a.b": ids must be non-empty and must not contain '.'`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			name := register(func() *Dataflow {
				f := NewDataflow("f")
				tt.flow(f, Input("inp", f, TestingSource(kvs[int](), 1)))
				return f
			})
			if e := callErr(t, abi.OpBuild, &abi.BuildRequest{Flow: name}); e.Message != tt.want {
				t.Errorf("error = %q, want %q", e.Message, tt.want)
			}
		})
	}
}

func TestLibMapperPanic(t *testing.T) {
	g := buildFlow(t, func() *Dataflow {
		f := NewDataflow("f")
		s := Input("inp", f, TestingSource(ints(), 1))
		odd := Filter("odd", Map("inc", s, func(x int) int { return x + 1 }), func(x int) bool {
			if x == 3 {
				panic("boom")
			}
			return x%2 != 0
		})
		Output("out", odd, captureSink(new([]int)))
		return f
	})
	inc, odd := stepIndex(t, g, "f.inc.flat_map_batch"), stepIndex(t, g, "f.odd.flat_map.flat_map_batch")
	checkEnd(t, call(t, abi.OpFuse, &abi.FuseRequest{Chain: 7, Steps: []uint32{inc, odd}}))
	e := callErr(t, abi.OpRunChain, &abi.ChainRequest{Chain: 7, Batch: batchOf(0, 1, 2)})
	want := "error calling mapper in step f.odd.flat_map.flat_map_batch: boom"
	if e.Message != want || e.Step != int(odd) || e.HasKey {
		t.Errorf("error = %+v, want %q at step %d", e, want, odd)
	}
}
