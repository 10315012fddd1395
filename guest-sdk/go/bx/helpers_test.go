package bx

import (
	"fmt"
	"slices"
	"sync/atomic"
	"testing"

	"github.com/bxwasm/bxwasm/guest-sdk/go/abi"
)

// This file drives the dispatcher the way the host does, for the tests of
// the core and of the library operators.

// encoder is every abi request body.
type encoder interface{ Encode(w *abi.Writer) }

// request encodes op and body.
func request(op abi.Op, body encoder) []byte {
	w := abi.Writer{B: []byte{byte(op)}}
	if body != nil {
		body.Encode(&w)
	}
	return w.B
}

// roundTrip sends a request and returns the status and a copy of the body
// (the dispatcher reuses its response buffer).
func roundTrip(op abi.Op, body encoder) (abi.Status, []byte) {
	resp := dispatch(request(op, body))
	if len(resp) == 0 {
		panic("empty response")
	}
	return abi.Status(resp[0]), slices.Clone(resp[1:])
}

// call sends a request that must succeed and returns its body.
func call(t testing.TB, op abi.Op, body encoder) *abi.Reader {
	t.Helper()
	st, b := roundTrip(op, body)
	if st != abi.StatusOK {
		e := abi.ReadErrorInfo(abi.NewReader(b))
		t.Fatalf("op %d failed: %s (step %d, key %q)\n%s", op, e.Message, e.Step, e.Key, e.Stack)
	}
	return abi.NewReader(b)
}

// callErr sends a request that must fail and returns the error.
func callErr(t testing.TB, op abi.Op, body encoder) abi.ErrorInfo {
	t.Helper()
	st, b := roundTrip(op, body)
	if st != abi.StatusError {
		t.Fatalf("op %d succeeded, want an error", op)
	}
	r := abi.NewReader(b)
	e := abi.ReadErrorInfo(r)
	if err := r.End(); err != nil {
		t.Fatalf("error info: %v", err)
	}
	return e
}

// checkEnd fails the test if r did not decode exactly.
func checkEnd(t testing.TB, r *abi.Reader) {
	t.Helper()
	if err := r.End(); err != nil {
		t.Fatalf("response: %v", err)
	}
}

var testFlows atomic.Int64

// register registers factory under a fresh name and returns the name.
func register(factory any, params ...string) string {
	name := fmt.Sprintf("test%d", testFlows.Add(1))
	Register(name, factory, params...)
	return name
}

// buildFlow registers a flow and builds it through the dispatcher.
func buildFlow(t testing.TB, factory func() *Dataflow) *abi.Graph {
	t.Helper()
	return buildNamed(t, register(factory))
}

// buildNamed builds a registered flow through the dispatcher.
func buildNamed(t testing.TB, name string, args ...abi.Arg) *abi.Graph {
	t.Helper()
	r := call(t, abi.OpBuild, &abi.BuildRequest{Flow: name, Args: args})
	g, err := abi.DecodeGraph(r)
	if err != nil {
		t.Fatal(err)
	}
	checkEnd(t, r)
	return g
}

// stepIndex finds a step by id.
func stepIndex(t testing.TB, g *abi.Graph, id string) uint32 {
	t.Helper()
	for i, s := range g.Steps {
		if s.ID == id {
			return uint32(i)
		}
	}
	t.Fatalf("no step %q in %v", id, stepIDs(g))
	return 0
}

func stepIDs(g *abi.Graph) []string {
	ids := make([]string, len(g.Steps))
	for i, s := range g.Steps {
		ids[i] = s.ID
	}
	return ids
}

// batchOf encodes values the way a stream of T does.
func batchOf[T any](vs ...T) abi.Batch {
	var b abi.Batch
	if err := newItemCodec[T]().encodeSlice(vs, &b); err != nil {
		panic(err)
	}
	return b
}

// valuesOf decodes a batch of a stream of T.
func valuesOf[T any](t testing.TB, b abi.Batch) []T {
	t.Helper()
	vs, err := newItemCodec[T]().decodeSlice(b)
	if err != nil {
		t.Fatal(err)
	}
	return vs
}

// capture is a DynamicSink that appends what it is given to got.
type capture[T any] struct{ got *[]T }

func (c capture[T]) Build(string, int, int) StatelessSinkPartition[T] { return c }
func (c capture[T]) WriteBatch(items []T)                             { *c.got = append(*c.got, items...) }
func (c capture[T]) Close()                                           {}

// captureSink collects the items of a stream into got.
func captureSink[T any](got *[]T) Sink[T] { return DynamicOutput[T](capture[T]{got}) }
