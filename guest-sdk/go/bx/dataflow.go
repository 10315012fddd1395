package bx

import (
	"errors"
	"fmt"
	"strings"

	"github.com/bxwasm/bxwasm/guest-sdk/go/abi"
)

// Errors a flow definition can raise while it is built. They reach the host
// as the message of a failed OpBuild, so they read as plain sentences.
var (
	// ErrDuplicateStepID is raised when two steps of one scope share an id.
	ErrDuplicateStepID = errors.New("duplicate step id")
	// ErrBadStepID is raised for an empty step id or one with a '.'.
	ErrBadStepID = errors.New("bad step id")
	// ErrScope is raised when a stream is used outside the scope it is in.
	ErrScope = errors.New("stream used outside its scope")
	// ErrNil is raised when a flow, stream, source, sink or function is nil.
	ErrNil = errors.New("nil argument")
)

// buildPanic carries a flow-definition error up through the user's flow
// factory; OpBuild recovers it and reports the error alone.
type buildPanic struct{ err error }

func raise(format string, args ...any) {
	panic(buildPanic{fmt.Errorf(format, args...)})
}

// Dataflow is a flow under construction and, once built by the host, the
// flow the module runs. Its steps are core operators; library operators
// only add scopes around them.
type Dataflow struct {
	root    *Scope
	steps   []*step
	streams uint32
}

// NewDataflow starts an empty flow. Its id is the first part of every step
// id.
func NewDataflow(id string) *Dataflow {
	checkID(id)
	f := &Dataflow{}
	f.root = &Scope{flow: f, path: id, ids: map[string]bool{}}
	return f
}

// ID returns the flow's id.
func (f *Dataflow) ID() string { return f.root.path }

// graph describes the flow for the host.
func (f *Dataflow) graph() *abi.Graph {
	g := &abi.Graph{Flow: f.ID(), Streams: int(f.streams), Steps: make([]abi.Step, len(f.steps))}
	for i, s := range f.steps {
		g.Steps[i] = s.info
	}
	return g
}

// Scope is an operator scope: the steps added to streams inside it get ids
// below the scope's id, as in Bytewax (flow.count.stateful_batch). Library
// operators open one with Enter and leave it with Exit.
type Scope struct {
	flow   *Dataflow
	parent *Scope
	path   string
	ids    map[string]bool
}

// ID returns the scope's full id, e.g. "wordcount.count".
func (sc *Scope) ID() string { return sc.path }

// claim registers id in the scope and returns the full step id.
func (sc *Scope) claim(id string) string {
	checkID(id)
	full := sc.path + "." + id
	if sc.ids[id] {
		raise("%w %q", ErrDuplicateStepID, full)
	}
	sc.ids[id] = true
	return full
}

func checkID(id string) {
	if id == "" || strings.Contains(id, ".") {
		raise("%w %q: ids must be non-empty and must not contain '.'", ErrBadStepID, id)
	}
}

// Stream is a stream of items of type T between two steps. A keyed stream
// is a *Stream[KV[V]]. Streams are values of the flow definition; items
// flow through them only when the host runs the flow.
type Stream[T any] struct {
	id    uint32
	scope *Scope
	codec *itemCodec[T]
}

// KV is an item of a keyed stream. Key is the routing key (the item key on
// the wire); Value goes through V's codec.
type KV[V any] struct {
	Key   string
	Value V
}

// kvCodec builds the item codec of KV[V] (see kvCoder).
func (KV[V]) kvCodec() any {
	vc := valueCodecOf[V]()
	view := vc.viewer()
	return &itemCodec[KV[V]]{
		keyed: true,
		key:   func(kv *KV[V]) string { return kv.Key },
		enc:   func(dst []byte, kv *KV[V]) ([]byte, error) { return vc.enc(dst, kv.Value) },
		dec: func(key, val []byte) (KV[V], error) {
			v, err := vc.dec(val)
			return KV[V]{Key: string(key), Value: v}, err
		},
		view: func(key, val []byte) (KV[V], error) {
			v, err := view(val)
			k, _ := viewString(key)
			return KV[V]{Key: k, Value: v}, err
		},
		views: true,
	}
}

// Enter opens the operator scope id inside up's scope and returns the scope
// and up as seen from inside it. A duplicate id in one scope fails the build.
func Enter[T any](id string, up *Stream[T]) (*Scope, *Stream[T]) {
	checkStream(up)
	up.scope.claim(id)
	sc := &Scope{flow: up.scope.flow, parent: up.scope, path: up.scope.path + "." + id, ids: map[string]bool{}}
	return sc, &Stream[T]{id: up.id, scope: sc, codec: up.codec}
}

// In brings s, a stream of sc's parent scope, into the open scope sc.
func In[T any](sc *Scope, s *Stream[T]) *Stream[T] {
	checkStream(s)
	if sc == nil || s.scope != sc.parent {
		raise("%w: In(%s) needs a stream of the enclosing scope, got one of %s", ErrScope, scopeID(sc), s.scope.path)
	}
	return &Stream[T]{id: s.id, scope: sc, codec: s.codec}
}

// Exit returns s, a stream inside sc, as seen from sc's parent scope.
func Exit[T any](sc *Scope, s *Stream[T]) *Stream[T] {
	checkStream(s)
	if sc == nil || sc.parent == nil || s.scope != sc {
		raise("%w: Exit(%s) needs a stream of that scope, got one of %s", ErrScope, scopeID(sc), s.scope.path)
	}
	return &Stream[T]{id: s.id, scope: sc.parent, codec: s.codec}
}

func scopeID(sc *Scope) string {
	if sc == nil {
		return "nil scope"
	}
	return sc.path
}

func checkStream[T any](s *Stream[T]) {
	if s == nil || s.scope == nil {
		raise("%w: stream is nil", ErrNil)
	}
}

// sameScope checks that all streams are in the scope of the first.
func sameScope[T any](op string, ups []*Stream[T]) *Scope {
	for _, s := range ups {
		checkStream(s)
		if s.scope != ups[0].scope {
			raise("%w: %s joins streams of %s and %s; bring them into one scope with In", ErrScope, op, ups[0].scope.path, s.scope.path)
		}
	}
	return ups[0].scope
}

// newStream allocates a stream id in sc.
func newStream[T any](sc *Scope) *Stream[T] {
	s := &Stream[T]{id: sc.flow.streams, scope: sc, codec: newItemCodec[T]()}
	sc.flow.streams++
	return s
}

// addStep appends a core step with the given input and output streams.
func (sc *Scope) addStep(id string, kind abi.StepKind, ins, outs []uint32) *step {
	st := &step{info: abi.Step{ID: sc.claim(id), Kind: kind, Inputs: ins, Outputs: outs}}
	st.index = len(sc.flow.steps)
	sc.flow.steps = append(sc.flow.steps, st)
	return st
}

func ids(xs ...uint32) []uint32 { return xs }
