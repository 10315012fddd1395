package bx

import (
	"errors"
	"fmt"
	"reflect"
	"strings"

	"github.com/bxwasm/bxwasm/guest-sdk/go/abi"
)

// Errors of OpBuild.
var (
	// ErrUnknownFlow is returned when the host asks for a flow the module
	// did not register.
	ErrUnknownFlow = errors.New("unknown flow")
	// ErrArgs is returned when the arguments do not fit the factory.
	ErrArgs = errors.New("bad arguments")
	// ErrFactory wraps an error or panic of the user's flow factory.
	ErrFactory = errors.New("flow factory failed")
)

// flowDef is a registered flow factory.
type flowDef struct {
	name     string
	params   []abi.Param
	fn       reflect.Value
	hasError bool // the factory returns (*Dataflow, error)
}

// registry holds the registered flows in registration order.
var registry struct {
	defs  []*flowDef
	names map[string]*flowDef
}

var (
	dataflowType = reflect.TypeFor[*Dataflow]()
	errorType    = reflect.TypeFor[error]()
	argTypes     = map[reflect.Kind]abi.ArgType{
		reflect.String: abi.ArgString, reflect.Int: abi.ArgInt, reflect.Int64: abi.ArgInt,
		reflect.Float64: abi.ArgFloat, reflect.Bool: abi.ArgBool,
	}
)

// Register makes a flow known to the host under name. factory is a func
// whose parameters are string, int, int64, float64 or bool and which
// returns *Dataflow or (*Dataflow, error). paramNames name the parameters
// for the host's command line; missing names default to "arg0", "arg1"...
// Register panics (at init) on a bad factory, on more names than
// parameters, and on a name registered twice.
func Register(name string, factory any, paramNames ...string) {
	if name == "" {
		panic("bx.Register: empty flow name")
	}
	if registry.names[name] != nil {
		panic(fmt.Sprintf("bx.Register: flow %q registered twice", name))
	}
	def := &flowDef{name: name, fn: reflect.ValueOf(factory)}
	if err := def.check(paramNames); err != nil {
		panic(fmt.Sprintf("bx.Register(%q): %v", name, err))
	}
	if registry.names == nil {
		registry.names = map[string]*flowDef{}
	}
	registry.names[name] = def
	registry.defs = append(registry.defs, def)
}

// check validates the factory's type and fills params.
func (d *flowDef) check(names []string) error {
	t := d.fn.Type()
	if d.fn.Kind() != reflect.Func || d.fn.IsNil() || t.IsVariadic() {
		return fmt.Errorf("factory is a %v, want a non-variadic func returning *bx.Dataflow", t)
	}
	switch {
	case t.NumOut() == 1 && t.Out(0) == dataflowType:
	case t.NumOut() == 2 && t.Out(0) == dataflowType && t.Out(1) == errorType:
		d.hasError = true
	default:
		return fmt.Errorf("factory %v must return *bx.Dataflow or (*bx.Dataflow, error)", t)
	}
	if len(names) > t.NumIn() {
		return fmt.Errorf("%d parameter names for a factory with %d parameters", len(names), t.NumIn())
	}
	seen := map[string]bool{}
	for i := range t.NumIn() {
		at, ok := argTypes[t.In(i).Kind()]
		if !ok {
			return fmt.Errorf("parameter %d is a %v; want string, int, int64, float64 or bool", i, t.In(i))
		}
		p := abi.Param{Name: fmt.Sprintf("arg%d", i), Type: at}
		if i < len(names) {
			p.Name = names[i]
		}
		if seen[p.Name] {
			return fmt.Errorf("parameter name %q used twice", p.Name)
		}
		seen[p.Name] = true
		d.params = append(d.params, p)
	}
	return nil
}

// signature renders the factory for messages: name(path string, n int).
func (d *flowDef) signature() string {
	ps := make([]string, len(d.params))
	for i, p := range d.params {
		ps[i] = p.Name + " " + p.Type.String()
	}
	return d.name + "(" + strings.Join(ps, ", ") + ")"
}

// flowList is the OpListFlows response.
func flowList() abi.FlowList {
	l := abi.FlowList{Flows: make([]abi.FlowInfo, len(registry.defs))}
	for i, d := range registry.defs {
		l.Flows[i] = abi.FlowInfo{Name: d.name, Params: d.params}
	}
	return l
}

// lookupFlow finds a registered flow or says which ones exist.
func lookupFlow(name string) (*flowDef, error) {
	if d := registry.names[name]; d != nil {
		return d, nil
	}
	known := make([]string, len(registry.defs))
	for i, d := range registry.defs {
		known[i] = d.signature()
	}
	if len(known) == 0 {
		return nil, fmt.Errorf("%w %q: this module registers no flows (call bx.Register in an init func)", ErrUnknownFlow, name)
	}
	return nil, fmt.Errorf("%w %q; this module has: %s", ErrUnknownFlow, name, strings.Join(known, ", "))
}

// args converts the host's literals to the factory's parameter values.
func (d *flowDef) args(args []abi.Arg) ([]reflect.Value, error) {
	if len(args) != len(d.params) {
		return nil, fmt.Errorf("%w: %s takes %d argument(s), got %d", ErrArgs, d.signature(), len(d.params), len(args))
	}
	vals := make([]reflect.Value, len(args))
	for i, a := range args {
		v, err := argValue(a, d.params[i].Type)
		if err != nil {
			return nil, fmt.Errorf("%w: argument %d (%s) of %s: %w", ErrArgs, i+1, d.params[i].Name, d.signature(), err)
		}
		vals[i] = v.Convert(d.fn.Type().In(i))
	}
	return vals, nil
}

func argValue(a abi.Arg, want abi.ArgType) (reflect.Value, error) {
	switch {
	case a.Type == want && want == abi.ArgString:
		return reflect.ValueOf(a.S), nil
	case a.Type == want && want == abi.ArgInt:
		return reflect.ValueOf(a.I), nil
	case a.Type == want && want == abi.ArgFloat:
		return reflect.ValueOf(a.F), nil
	case a.Type == want && want == abi.ArgBool:
		return reflect.ValueOf(a.B), nil
	case a.Type == abi.ArgInt && want == abi.ArgFloat:
		return reflect.ValueOf(float64(a.I)), nil
	}
	return reflect.Value{}, fmt.Errorf("want %v, got %v", want, a.Type)
}

// build calls the factory. Flow-definition errors raised inside it and
// its own errors and panics come back as errors.
func (d *flowDef) build(args []abi.Arg) (flow *Dataflow, err error) {
	vals, err := d.args(args)
	if err != nil {
		return nil, err
	}
	defer func() {
		switch p := recover().(type) {
		case nil:
		case buildPanic:
			flow, err = nil, p.err
		default:
			flow, err = nil, &panicError{what: "flow factory " + d.name, value: p, stack: stack()}
		}
	}()
	enterPart(nil, "flow factory "+d.name, "")
	out := d.fn.Call(vals)
	if d.hasError && !out[1].IsNil() {
		return nil, fmt.Errorf("%w: %s: %w", ErrFactory, d.name, out[1].Interface().(error))
	}
	if flow, _ = out[0].Interface().(*Dataflow); flow == nil {
		return nil, fmt.Errorf("%w: %s returned a nil *bx.Dataflow", ErrFactory, d.name)
	}
	return flow, nil
}
