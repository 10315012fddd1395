package bx

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/bxwasm/bxwasm/guest-sdk/go/abi"
)

// simpleFlow is a valid one-step-each flow.
func simpleFlow(id string) *Dataflow {
	f := NewDataflow(id)
	Output("out", Input("inp", f, FileSource("x")), StdOutSink())
	return f
}

func TestRegisterPanics(t *testing.T) {
	taken := register(func() *Dataflow { return nil })
	tests := []struct {
		name    string
		flow    string
		factory any
		params  []string
		want    string
	}{
		{"not a func", "", 3, nil, "factory is a int"},
		{"nil func", "", (func() *Dataflow)(nil), nil, "non-variadic func"},
		{"variadic", "", func(...string) *Dataflow { return nil }, nil, "non-variadic"},
		{"no result", "", func() {}, nil, "must return *bx.Dataflow"},
		{"wrong result", "", func() string { return "" }, nil, "must return"},
		{"wrong error result", "", func() (*Dataflow, string) { return nil, "" }, nil, "must return"},
		{"bad param", "", func([]string) *Dataflow { return nil }, nil, "parameter 0 is a []string"},
		{"uint param", "", func(uint) *Dataflow { return nil }, nil, "parameter 0 is a uint"},
		{"too many names", "", func(string) *Dataflow { return nil }, []string{"a", "b"}, "2 parameter names"},
		{"duplicate names", "", func(string, int) *Dataflow { return nil }, []string{"a", "a"}, `"a" used twice`},
		{"empty name", "-", func() *Dataflow { return nil }, nil, "empty flow name"},
		{"registered twice", taken, func() *Dataflow { return nil }, nil, "registered twice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			name := tt.flow
			switch name {
			case "":
				name = "never-" + strings.ReplaceAll(tt.name, " ", "-")
			case "-":
				name = ""
			}
			defer func() {
				p := recover()
				if s, _ := p.(string); !strings.Contains(s, tt.want) {
					t.Errorf("panic %v, want one containing %q", p, tt.want)
				}
				if _, ok := registry.names[name]; ok && name != taken {
					t.Errorf("flow %q was registered", name)
				}
			}()
			Register(name, tt.factory, tt.params...)
		})
	}
}

func TestListFlows(t *testing.T) {
	a := register(func(path string, n int, big int64, f float64, b bool) *Dataflow { return nil }, "path", "n")
	b := register(func() (*Dataflow, error) { return nil, nil })
	r := call(t, abi.OpListFlows, nil)
	l := abi.ReadFlowList(r)
	checkEnd(t, r)
	got := map[string][]abi.Param{}
	var order []string
	for _, f := range l.Flows {
		got[f.Name] = f.Params
		order = append(order, f.Name)
	}
	want := []abi.Param{{Name: "path", Type: abi.ArgString}, {Name: "n", Type: abi.ArgInt}, {Name: "arg2", Type: abi.ArgInt}, {Name: "arg3", Type: abi.ArgFloat}, {Name: "arg4", Type: abi.ArgBool}}
	if !reflect.DeepEqual(got[a], want) {
		t.Errorf("params of %s = %v, want %v", a, got[a], want)
	}
	if p, ok := got[b]; !ok || len(p) != 0 {
		t.Errorf("params of %s = %v, %v", b, p, ok)
	}
	if len(order) != len(registry.defs) || order[len(order)-1] != b {
		t.Errorf("flows not in registration order: %v", order)
	}
}

func TestBuildArgs(t *testing.T) {
	var got []any
	name := register(func(s string, i int, i64 int64, f float64, b bool) *Dataflow {
		got = []any{s, i, i64, f, b}
		return simpleFlow("args")
	}, "s", "i", "i64", "f", "b")
	args := []abi.Arg{{Type: abi.ArgString, S: "p"}, {Type: abi.ArgInt, I: -2}, {Type: abi.ArgInt, I: 1 << 40},
		{Type: abi.ArgInt, I: 3}, {Type: abi.ArgBool, B: true}}
	g := buildNamed(t, name, args...)
	if want := []any{"p", -2, int64(1 << 40), 3.0, true}; !reflect.DeepEqual(got, want) {
		t.Errorf("factory got %v, want %v", got, want)
	}
	if g.Flow != "args" {
		t.Errorf("flow %q", g.Flow)
	}
}

type myString string

func TestBuildNamedKinds(t *testing.T) {
	var got myString
	name := register(func(s myString) *Dataflow { got = s; return simpleFlow("k") })
	buildNamed(t, name, abi.Arg{Type: abi.ArgString, S: "v"})
	if got != "v" {
		t.Errorf("got %q", got)
	}
}

var errNoInput = errors.New("no such input")

func TestBuildErrors(t *testing.T) {
	str := register(func(path string, n float64) *Dataflow { return simpleFlow("x") }, "path", "n")
	failing := register(func() (*Dataflow, error) { return nil, errNoInput })
	nilFlow := register(func() *Dataflow { return nil })
	panicking := register(func() *Dataflow { panic("kaboom") })
	dup := register(func() *Dataflow {
		f := NewDataflow("wordcount")
		s := Input("inp", f, FileSource("x"))
		FlatMapBatch("split", s, splitWords)
		FlatMapBatch("split", s, splitWords)
		return f
	})
	dupScope := register(func() *Dataflow {
		f := NewDataflow("wc")
		s := Input("inp", f, FileSource("x"))
		Enter("count", s)
		Enter("count", s)
		return f
	})
	tests := []struct {
		name  string
		flow  string
		args  []abi.Arg
		want  []string
		stack bool
	}{
		{"unknown flow", "nope", nil, []string{`unknown flow "nope"; this module has:`, str + "(path string, n float64)"}, false},
		{"too few args", str, nil, []string{str + "(path string, n float64) takes 2 argument(s), got 0"}, false},
		{"wrong type", str, []abi.Arg{{Type: abi.ArgInt, I: 1}, {Type: abi.ArgFloat}},
			[]string{"argument 1 (path) of " + str + "(path string, n float64): want string, got int"}, false},
		{"float for int is not taken", str, []abi.Arg{{Type: abi.ArgString}, {Type: abi.ArgBool}}, []string{"want float64, got bool"}, false},
		{"factory error", failing, nil, []string{"flow factory failed: " + failing + ": no such input"}, false},
		{"nil flow", nilFlow, nil, []string{"returned a nil *bx.Dataflow"}, false},
		{"factory panic", panicking, nil, []string{"error calling flow factory " + panicking + ": kaboom"}, true},
		{"duplicate step id", dup, nil, []string{`duplicate step id "wordcount.split"`}, false},
		{"duplicate scope id", dupScope, nil, []string{`duplicate step id "wc.count"`}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := callErr(t, abi.OpBuild, &abi.BuildRequest{Flow: tt.flow, Args: tt.args})
			for _, w := range tt.want {
				if !strings.Contains(e.Message, w) {
					t.Errorf("message %q does not contain %q", e.Message, w)
				}
			}
			if e.Step != -1 || e.HasKey {
				t.Errorf("error located at step %d key %v", e.Step, e.HasKey)
			}
			if (e.Stack != "") != tt.stack {
				t.Errorf("stack %q, want one: %v", e.Stack, tt.stack)
			}
			if d.flow != nil {
				t.Error("a failed build left a flow")
			}
		})
	}
}

func TestBuildDefinitionErrors(t *testing.T) {
	tests := []struct {
		name string
		flow func() *Dataflow
		want string
	}{
		{"dot in id", func() *Dataflow { return simpleFlowWith("a.b") }, `bad step id "a.b"`},
		{"empty id", func() *Dataflow { return simpleFlowWith("") }, `bad step id ""`},
		{"empty flow id", func() *Dataflow { return NewDataflow("") }, `bad step id ""`},
		{"nil source", func() *Dataflow {
			f := NewDataflow("f")
			Input[string]("inp", f, nil)
			return f
		}, "nil argument"},
		{"nil stream", func() *Dataflow {
			FlatMapBatch[int, int]("x", nil, func(xs []int) []int { return xs })
			return nil
		}, "stream is nil"},
		{"nil mapper", func() *Dataflow {
			f := NewDataflow("f")
			FlatMapBatch[string, string]("x", Input("inp", f, FileSource("x")), nil)
			return f
		}, `step "x" needs a function`},
		{"empty merge", func() *Dataflow { Merge[int]("m"); return nil }, "needs at least one stream"},
		{"merge across scopes", func() *Dataflow {
			f := NewDataflow("f")
			s := Input("inp", f, FileSource("x"))
			_, inner := Enter("op", s)
			Merge("m", s, inner)
			return f
		}, "Merge m joins streams of f and f.op"},
		{"exit from wrong scope", func() *Dataflow {
			f := NewDataflow("f")
			s := Input("inp", f, FileSource("x"))
			sc, _ := Enter("op", s)
			Exit(sc, s)
			return f
		}, "Exit(f.op) needs a stream of that scope, got one of f"},
		{"in from wrong scope", func() *Dataflow {
			f := NewDataflow("f")
			s := Input("inp", f, FileSource("x"))
			sc, inner := Enter("op", s)
			sc2, _ := Enter("deeper", inner)
			In(sc2, s)
			_ = sc
			return f
		}, "In(f.op.deeper) needs a stream of the enclosing scope, got one of f"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := callErr(t, abi.OpBuild, &abi.BuildRequest{Flow: register(tt.flow)})
			if !strings.Contains(e.Message, tt.want) {
				t.Errorf("message %q does not contain %q", e.Message, tt.want)
			}
		})
	}
}

func simpleFlowWith(id string) *Dataflow {
	f := NewDataflow("f")
	Output(id, Input("inp", f, FileSource("x")), StdOutSink())
	return f
}

func TestScopes(t *testing.T) {
	g := buildFlow(t, func() *Dataflow {
		f := NewDataflow("f")
		a := Input("a", f, FileSource("x"))
		b := Input("b", f, FileSource("y"))
		sc, in := Enter("join", a)
		if sc.ID() != "f.join" {
			panic(sc.ID())
		}
		m := Merge("merge", in, In(sc, b))
		Output("out", Exit(sc, m), StdOutSink())
		// the same core id in another scope is fine
		_, in2 := Enter("other", b)
		Output("out", Merge("merge", in2), StdOutSink())
		return f
	})
	want := []string{"f.a", "f.b", "f.join.merge", "f.out", "f.other.merge", "f.other.out"}
	if ids := stepIDs(g); !reflect.DeepEqual(ids, want) {
		t.Errorf("ids %q, want %q", ids, want)
	}
	if in := g.Steps[2].Inputs; !reflect.DeepEqual(in, []uint32{0, 1}) {
		t.Errorf("merge reads %v", in)
	}
}
