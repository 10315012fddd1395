package bx

import (
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/bxwasm/bxwasm/guest-sdk/go/abi"
)

func TestCollectFlow(t *testing.T) {
	runLibCases(t, []libCase{{
		// Bytewax's collect example: 10 items, one key, max size 3.
		name: "max size and eof",
		flow: func(f *Dataflow) func() []string {
			s := Input("inp", f, TestingSource(ints(0, 1, 2, 3, 4, 5, 6, 7, 8, 9), 1))
			keyed := KeyOn("key", s, func(int) string { return "ALL" })
			return outputOf(Collect("collect", keyed, 10*time.Second, 3))
		},
		steps: strs("f.inp", "f.key.map.flat_map_batch", "f.collect.stateful.stateful_batch", "f.out"),
		want:  strs("ALL=[0 1 2]", "ALL=[3 4 5]", "ALL=[6 7 8]", "ALL=[9]"),
	}, {
		name: "max size one",
		flow: func(f *Dataflow) func() []string {
			s := Input("inp", f, TestingSource(kvs(kv("a", "x"), kv("a", "y"), kv("b", "z")), 3))
			return outputOf(Collect("one", s, time.Hour, 1))
		},
		steps: strs("f.inp", "f.one.stateful.stateful_batch", "f.out"),
		want:  strs("a=[x]", "a=[y]", "b=[z]"),
	}})
}

// TestCollectTimeout drives Collect's stateful step with a hand-moved
// clock: the timeout runs from the first value of a slice.
func TestCollectTimeout(t *testing.T) {
	clk := newFakeClock()
	t0 := clk.now
	sec := func(n int) int64 { return t0.Add(time.Duration(n) * time.Second).UnixNano() }
	name := register(func() *Dataflow {
		f := NewDataflow("f")
		s := Input("inp", f, TestingSource(kvs[int](), 1))
		Output("out", collect("c", s, 5*time.Second, 3, clk.Now), captureSink(new([]KV[[]int])))
		return f
	})
	st := stepIndex(t, buildNamed(t, name), "f.c.stateful.stateful_batch")

	checkKeyed(t, "first values", sendBatch[int, []int](t, st, kv("a", 1), kv("b", 2)),
		nil, []abi.KeyState{ks("a", sec(5)), ks("b", sec(5))})
	clk.now = t0.Add(2 * time.Second)
	checkKeyed(t, "a later value keeps the timeout (unchanged, so not reported)", sendBatch[int, []int](t, st, kv("a", 3)),
		nil, nil)
	checkKeyed(t, "timeout", sendNotify[[]int](t, st, "a"), strs("a=[1 3]"), []abi.KeyState{gone("a")})
	clk.now = t0.Add(3 * time.Second)
	checkKeyed(t, "full slice, then a new one", sendBatch[int, []int](t, st, kv("a", 4), kv("a", 5), kv("a", 6), kv("a", 7)),
		strs("a=[4 5 6]"), []abi.KeyState{ks("a", sec(8))})
	snaps := snapshotKeys(t, st, "a", "b")
	checkKeyed(t, "eof in build order", sendEOF[[]int](t, st), strs("b=[2]", "a=[7]"), []abi.KeyState{gone("b"), gone("a")})

	buildNamed(t, name)
	restoreKeys(t, snaps)
	clk.now = t0.Add(4 * time.Second)
	checkKeyed(t, "restored timeout", sendBatch[int, []int](t, st, kv("b", 8)), nil, []abi.KeyState{ks("b", sec(5))})
	checkKeyed(t, "eof after restore", sendEOF[[]int](t, st), strs("a=[7]", "b=[2 8]"), []abi.KeyState{gone("a"), gone("b")})
}

func TestCollectBadMaxSize(t *testing.T) {
	for _, size := range []int{0, -1} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			name := register(func() *Dataflow {
				f := NewDataflow("f")
				Collect("c", Input("inp", f, TestingSource(kvs[int](), 1)), time.Second, size)
				return f
			})
			e := callErr(t, abi.OpBuild, &abi.BuildRequest{Flow: name})
			want := fmt.Sprintf(`bad operator parameter: Collect "c" needs a max size of at least 1, got %d`, size)
			if e.Message != want {
				t.Errorf("error = %q, want %q", e.Message, want)
			}
		})
	}
}

func TestCollectStateCodec(t *testing.T) {
	at := time.Date(2024, 5, 6, 7, 8, 9, 10, time.UTC)
	tests := []struct {
		name  string
		state any
	}{
		{name: "ints", state: collectState[int]{acc: ints(1, -2, 300), timeoutAt: at}},
		{name: "strings", state: collectState[string]{acc: strs("", "x", "yz"), timeoutAt: at}},
		{name: "structs", state: collectState[struct{ A int }]{acc: []struct{ A int }{{1}, {2}}, timeoutAt: at}},
		{name: "empty", state: collectState[int]{acc: []int{}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := roundTripState(t, tt.state)
			if !reflect.DeepEqual(got, tt.state) {
				t.Errorf("round trip = %+v, want %+v", got, tt.state)
			}
		})
	}
}

// roundTripState encodes and decodes a collectState[X] through the codec
// the SDK picks for it.
func roundTripState(t *testing.T, s any) any {
	t.Helper()
	switch s := s.(type) {
	case collectState[int]:
		return codecRoundTrip(t, s)
	case collectState[string]:
		return codecRoundTrip(t, s)
	case collectState[struct{ A int }]:
		return codecRoundTrip(t, s)
	}
	t.Fatalf("no case for %T", s)
	return nil
}

func codecRoundTrip[S any](t *testing.T, s S) S {
	t.Helper()
	c := valueCodecOf[S]()
	b, err := c.enc(nil, s)
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.dec(b)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func TestCollectStateDecodeErrors(t *testing.T) {
	good, err := collectState[string]{acc: strs("ab"), timeoutAt: time.Unix(5, 0)}.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		b    []byte
	}{
		{name: "empty", b: nil},
		{name: "bad time", b: []byte{1, 9, 0}},
		{name: "truncated", b: good[:len(good)-1]},
		{name: "trailing", b: append(append([]byte{}, good...), 0)},
		{name: "count too large", b: append(append([]byte{}, good[:len(good)-4]...), 100)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s collectState[string]
			if err := s.UnmarshalBinary(tt.b); !errors.Is(err, errCollectState) {
				t.Errorf("error = %v, want %v", err, errCollectState)
			}
		})
	}
	var bad collectState[int]
	if err := bad.UnmarshalBinary(mustMarshal(t, collectState[string]{acc: strs("not a varint\xff")})); !errors.Is(err, ErrDecode) {
		t.Errorf("decoding a bad value: error = %v, want %v", err, ErrDecode)
	}
}

func mustMarshal(t testing.TB, s collectState[string]) []byte {
	t.Helper()
	b, err := s.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func FuzzCollectState(f *testing.F) {
	f.Add([]byte{})
	f.Add(mustMarshal(f, collectState[string]{acc: strs("a", "bc"), timeoutAt: time.Unix(1, 2)}))
	f.Fuzz(func(t *testing.T, b []byte) {
		var s collectState[string]
		if s.UnmarshalBinary(b) != nil {
			return
		}
		again, err := s.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		var s2 collectState[string]
		if err := s2.UnmarshalBinary(again); err != nil || !reflect.DeepEqual(s.acc, s2.acc) || !s.timeoutAt.Equal(s2.timeoutAt) {
			t.Fatalf("re-decoding %x: %+v, %v; want %+v", again, s2, err, s)
		}
	})
}
