package plan

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/bxwasm/bxwasm/guest-sdk/go/abi"
)

// g builds a graph from lines "id kind in,in>out,out conn" where kind is a
// core operator name and conn is an optional connector name.
func g(t testing.TB, streams int, lines ...string) *abi.Graph {
	t.Helper()
	kinds := map[string]abi.StepKind{}
	for k := abi.KindInput; k <= abi.KindStatefulBatch; k++ {
		kinds[k.String()] = k
	}
	conns := map[string]abi.ConnKind{}
	for c := abi.ConnGuestPartitioned; c <= abi.ConnStdout; c++ {
		conns[c.String()] = c
	}
	gr := &abi.Graph{Flow: "f", Streams: streams}
	for _, l := range lines {
		f := strings.Fields(l)
		s := abi.Step{ID: "f." + f[0], Kind: kinds[f[1]]}
		io := strings.SplitN(f[2], ">", 2)
		s.Inputs, s.Outputs = ids(io[0]), ids(io[1])
		if len(f) > 3 {
			s.Conn = conns[f[3]]
		}
		gr.Steps = append(gr.Steps, s)
	}
	return gr
}

func ids(s string) []uint32 {
	var out []uint32
	for _, p := range strings.Split(s, ",") {
		if p == "" {
			continue
		}
		var n uint32
		fmt.Sscan(p, &n)
		out = append(out, n)
	}
	return out
}

// describe renders nodes as "kind[steps]route" for comparison.
func describe(p *Plan) string {
	names := map[NodeKind]string{NodeInput: "in", NodeChain: "chain", NodeMerge: "merge",
		NodeRedistribute: "redist", NodeStateful: "stateful", NodeOutput: "out"}
	var parts []string
	for _, n := range p.Nodes {
		s := fmt.Sprintf("%s%v", names[n.Kind], n.Steps)
		if n.Route != RouteLocal {
			s += fmt.Sprintf("/r%d<-%v", n.Route, n.Origins)
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, " ")
}

func TestBuild(t *testing.T) {
	cases := []struct {
		name  string
		graph *abi.Graph
		want  string
	}{
		{"stateless chain fuses", g(t, 4,
			"in input >0 file", "a flat_map_batch 0>1", "b inspect_debug 1>2", "c flat_map_batch 2>3", "out output 3> stdout"),
			"in[0] chain[1 2 3] out[4]"},
		{"stateful breaks the chain and exchanges", g(t, 4,
			"in input >0 file", "a flat_map_batch 0>1", "s stateful_batch 1>2", "c flat_map_batch 2>3", "out output 3> stdout"),
			"in[0] chain[1] stateful[2]/r1<-[0] chain[3] out[4]"},
		{"branch ends a chain", g(t, 5,
			"in input >0 file", "a flat_map_batch 0>1", "br branch 1>2,3", "x flat_map_batch 2>4", "o1 output 4> stdout", "o2 output 3> stdout"),
			"in[0] chain[1 2] chain[3] out[4] out[5]"},
		{"a stream read twice is not fused", g(t, 3,
			"in input >0 file", "a flat_map_batch 0>1", "b flat_map_batch 1>2", "c output 1> stdout", "d output 2> stdout"),
			"in[0] chain[1] chain[2] out[3] out[4]"},
		{"origins pass through merge and chains", g(t, 6,
			"i1 input >0 file", "i2 input >1 stdin", "m merge 0,1>2", "a flat_map_batch 2>3", "r redistribute 3>4", "s stateful_batch 4>5", "o output 5> file"),
			"in[0] in[1] merge[2] chain[3] redist[4]/r2<-[0 1] stateful[5]/r1<-[4] out[6]/r3<-[5]"},
		{"steps run after their inputs", g(t, 2,
			"a flat_map_batch 1>0", "in input >1 file", "o output 0> stdout"),
			"in[1] chain[0] out[2]"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, err := Build(c.graph)
			if err != nil {
				t.Fatal(err)
			}
			if got := describe(p); got != c.want {
				t.Errorf("plan:\n got %s\nwant %s", got, c.want)
			}
		})
	}
}

func TestBuildRejects(t *testing.T) {
	cases := []struct {
		name  string
		graph *abi.Graph
		want  string
	}{
		{"duplicate id", g(t, 2, "in input >0 file", "in flat_map_batch 0>1"), `duplicate step id "f.in"`},
		{"unknown stream", g(t, 1, "in input >0 file", "o output 3> stdout"), "uses stream 3"},
		{"stream never written", g(t, 2, "a flat_map_batch 1>0"), "reads stream 1, which no step writes"},
		{"stream written twice", g(t, 1, "a input >0 file", "b input >0 file"), "written by 2 steps"},
		{"wrong arity", g(t, 2, "in input >0 file", "br branch 0>1"), "has 1 inputs and 1 outputs"},
		{"sink as source", g(t, 1, "in input >0 stdout"), "cannot be a source"},
		{"cycle", g(t, 2, "a flat_map_batch 0>1", "b flat_map_batch 1>0"), "cycle"},
		{"no steps", &abi.Graph{Flow: "f"}, "has no steps"},
		{"unknown kind", &abi.Graph{Flow: "f", Streams: 1, Steps: []abi.Step{{ID: "x", Kind: 99}}}, "unknown kind"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Build(c.graph)
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want an ErrInvalid containing %q", err, c.want)
			}
		})
	}
}

func TestAssignParts(t *testing.T) {
	cases := []struct {
		name  string
		reach [][]string
		want  map[string]int
	}{
		{"everyone reaches everything", [][]string{{"a", "b", "c"}, {"a", "b", "c"}},
			map[string]int{"a": 0, "b": 1, "c": 0}},
		{"scarce partitions first", [][]string{{"a", "b"}, {"a"}},
			map[string]int{"b": 0, "a": 1}},
		{"unreached worker gets nothing", [][]string{{}, {"x", "y"}},
			map[string]int{"x": 1, "y": 1}},
		{"nothing", [][]string{{}, {}}, map[string]int{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := AssignParts(c.reach); !reflect.DeepEqual(got, c.want) {
				t.Errorf("got %v, want %v", got, c.want)
			}
		})
	}
}

// FuzzBuild feeds arbitrary bytes through the graph decoder and the
// planner: neither may panic, whatever a guest sends.
func FuzzBuild(f *testing.F) {
	var w abi.Writer
	g(f, 4, "in input >0 file", "a flat_map_batch 0>1", "s stateful_batch 1>2", "m merge 2,1>3", "o output 3> stdout").Encode(&w)
	f.Add(w.B)
	f.Fuzz(func(t *testing.T, b []byte) {
		gr, err := abi.DecodeGraph(abi.NewReader(b))
		if err != nil {
			return
		}
		Build(gr)
	})
}
