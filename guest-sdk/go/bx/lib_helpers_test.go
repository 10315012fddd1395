package bx

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bxwasm/bxwasm/guest-sdk/go/abi"
)

// This file holds what the tests of the library operators share on top of
// the core's dispatcher helpers (helpers_test.go, sim_test.go).

// libCase is a flow that ends in one captured output, run by the
// simulator: its step ids and its output (items formatted with %v).
type libCase struct {
	name  string
	flow  func(f *Dataflow) (report func() []string)
	steps []string
	want  []string
}

// runLibCases builds and simulates each case in a flow named "f".
func runLibCases(t *testing.T, cases []libCase) {
	t.Helper()
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			var report func() []string
			g := buildFlow(t, func() *Dataflow {
				f := NewDataflow("f")
				report = tt.flow(f)
				return f
			})
			if ids := stepIDs(g); !reflect.DeepEqual(ids, tt.steps) {
				t.Errorf("steps = %q, want %q", ids, tt.steps)
			}
			simulate(t, g, simOpts{})
			if got := report(); !slices.Equal(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

// outputOf adds the output step "out" capturing s and returns a function
// that formats what it captured.
func outputOf[T any](s *Stream[T]) func() []string {
	var got []T
	Output("out", s, captureSink(&got))
	return func() []string { return fmtAll(got) }
}

// fmtAll formats values with %v; a KV reads "key=value".
func fmtAll[T any](vs []T) []string {
	out := []string{}
	for _, v := range vs {
		out = append(out, fmtItem(v))
	}
	return out
}

func fmtItem(v any) string {
	rv := reflect.ValueOf(v)
	if rv.Kind() == reflect.Struct && rv.Type().Name() != "" && strings.HasPrefix(rv.Type().Name(), "KV[") {
		return fmt.Sprintf("%v=%v", rv.Field(0).Interface(), rv.Field(1).Interface())
	}
	return fmt.Sprintf("%v", v)
}

// ints and strs make inputs.
func ints(n ...int) []int            { return n }
func strs(s ...string) []string      { return s }
func kvs[V any](kv ...KV[V]) []KV[V] { return kv }

// kv builds a KV.
func kv[V any](k string, v V) KV[V] { return KV[V]{Key: k, Value: v} }

// keyed is the result of a stateful op: the emits formatted by fmtItem
// and the key states.
type keyed struct {
	emits []string
	keys  []abi.KeyState
}

func readKeyed[W any](t testing.TB, r *abi.Reader) keyed {
	t.Helper()
	u := abi.ReadKeyedUpdates(r)
	checkEnd(t, r)
	return keyed{emits: fmtAll(valuesOf[KV[W]](t, u.Emits)), keys: u.Keys}
}

// sendBatch runs OpStatefulBatch on step with items of a stream of KV[V].
func sendBatch[V, W any](t testing.TB, step uint32, in ...KV[V]) keyed {
	t.Helper()
	return readKeyed[W](t, call(t, abi.OpStatefulBatch, &abi.StatefulRequest{Step: step, Batch: batchOf(in...)}))
}

// sendNotify runs OpNotify on step for keys.
func sendNotify[W any](t testing.TB, step uint32, keys ...string) keyed {
	t.Helper()
	return readKeyed[W](t, call(t, abi.OpNotify, &abi.KeysRequest{Step: step, Keys: keys}))
}

// sendEOF runs OpEOF on step.
func sendEOF[W any](t testing.TB, step uint32) keyed {
	t.Helper()
	return readKeyed[W](t, call(t, abi.OpEOF, &abi.StepRequest{Step: step}))
}

// snapshotKeys runs OpSnapshot on step.
func snapshotKeys(t testing.TB, step uint32, keys ...string) abi.Snapshots {
	t.Helper()
	r := call(t, abi.OpSnapshot, &abi.KeysRequest{Step: step, Keys: keys})
	s := abi.ReadSnapshots(r)
	checkEnd(t, r)
	return s
}

// restoreKeys runs OpRestore with snaps.
func restoreKeys(t testing.TB, snaps abi.Snapshots) {
	t.Helper()
	checkEnd(t, call(t, abi.OpRestore, &snaps))
}

// ks is a key state that keeps its logic; notifyAt is 0 for none.
func ks(key string, notifyAt int64) abi.KeyState { return abi.KeyState{Key: key, NotifyAt: notifyAt} }

// gone is the state of a discarded key.
func gone(key string) abi.KeyState { return abi.KeyState{Key: key, Discard: true} }

// checkKeyed compares a stateful op's result.
func checkKeyed(t testing.TB, what string, got keyed, emits []string, keys []abi.KeyState) {
	t.Helper()
	if !slices.Equal(got.emits, emits) {
		t.Errorf("%s: emits = %q, want %q", what, got.emits, emits)
	}
	if keys == nil {
		keys = []abi.KeyState{}
	}
	if !reflect.DeepEqual(got.keys, keys) {
		t.Errorf("%s: key states = %+v, want %+v", what, got.keys, keys)
	}
}

// fakeClock is a clock the test moves by hand.
type fakeClock struct{ now time.Time }

func newFakeClock() *fakeClock { return &fakeClock{now: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)} }

func (c *fakeClock) Now() time.Time { return c.now }

// at returns the Unix nanoseconds of the clock's start plus d.
func (c *fakeClock) at(d time.Duration) int64 { return c.now.Add(d).UnixNano() }
