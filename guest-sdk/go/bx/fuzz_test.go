package bx

import (
	"testing"

	"github.com/bxwasm/bxwasm/guest-sdk/go/abi"
)

// fuzzFlow has a step of every kind; none of its user code panics, so any
// panic the dispatcher recovers during fuzzing is a bug of the SDK.
var fuzzFlow = register(func() *Dataflow {
	f := NewDataflow("z")
	in := Input("inp", f, TestingSource([]string{"a", "b", "c"}, 2))
	keyed := FlatMapBatch("key", in, func(xs []string) []KV[int] {
		out := make([]KV[int], len(xs))
		for i, x := range xs {
			out[i] = KV[int]{Key: x, Value: len(x)}
		}
		return out
	})
	sums := StatefulBatch("sum", keyed, newSum)
	yes, no := Branch("br", sums, func(kv KV[int]) bool { return kv.Value > 1 })
	yes = InspectDebug("look", yes, func(string, KV[int], uint64, int) {})
	m := Redistribute("spread", Merge("merge", yes, no))
	var sink []KV[int]
	Output("out", m, captureSink(&sink))
	Output("std", in, StdOutSink())
	return f
})

// fuzzSetup builds the flow and brings it into a state where every op has
// something to work on: a chain, a keyed state, open partitions.
func fuzzSetup(t *testing.T) {
	setup := []struct {
		op   abi.Op
		body encoder
	}{
		{abi.OpBuild, &abi.BuildRequest{Flow: fuzzFlow}},
		{abi.OpFuse, &abi.FuseRequest{Chain: 0, Steps: []uint32{1}}},
		{abi.OpFuse, &abi.FuseRequest{Chain: 1, Steps: []uint32{3}}},
		{abi.OpFuse, &abi.FuseRequest{Chain: 2, Steps: []uint32{4}}},
		{abi.OpBuildPart, &abi.BuildPartRequest{Step: 0, Handle: 1, Part: "iterable"}},
		{abi.OpBuildPart, &abi.BuildPartRequest{Step: 7, Handle: 2}},
		{abi.OpStatefulBatch, &abi.StatefulRequest{Step: 2, Batch: batchOf(KV[int]{Key: "a", Value: 1})}},
	}
	for _, s := range setup {
		if st, b := roundTrip(s.op, s.body); st != abi.StatusOK {
			t.Fatalf("setup op %d: %q", s.op, b)
		}
	}
}

func FuzzDispatch(f *testing.F) {
	seeds := []struct {
		op   abi.Op
		body encoder
	}{
		{abi.OpListFlows, nil},
		{abi.OpBuild, &abi.BuildRequest{Flow: fuzzFlow}},
		{abi.OpFuse, &abi.FuseRequest{Chain: 3, Steps: []uint32{3}}},
		{abi.OpRunChain, &abi.ChainRequest{Chain: 0, Batch: batchOf("x", "yy")}},
		{abi.OpRunChain, &abi.ChainRequest{Chain: 1, Batch: batchOf(KV[int]{Key: "k", Value: 2})}},
		{abi.OpStatefulBatch, &abi.StatefulRequest{Step: 2, Batch: batchOf(KV[int]{Key: "k", Value: 2})}},
		{abi.OpNotify, &abi.KeysRequest{Step: 2, Keys: []string{"a", "b"}}},
		{abi.OpEOF, &abi.StepRequest{Step: 2}},
		{abi.OpSnapshot, &abi.KeysRequest{Step: 2, Keys: []string{"a"}}},
		{abi.OpRestore, &abi.Snapshots{Step: 2, Items: []abi.KeySnap{{Key: "a", Present: true, State: []byte{4}}}}},
		{abi.OpListParts, &abi.PartsRequest{Step: 0}},
		{abi.OpBuildPart, &abi.BuildPartRequest{Step: 0, Handle: 5, HasResume: true, Resume: []byte{2}}},
		{abi.OpNextBatch, &abi.HandleRequest{Step: 0, Handle: 1}},
		{abi.OpWriteBatch, &abi.WriteRequest{Step: 7, Handle: 2, Batch: batchOf(KV[int]{Key: "k", Value: 2})}},
		{abi.OpPartSnapshot, &abi.HandleRequest{Step: 0, Handle: 1}},
		{abi.OpClosePart, &abi.HandleRequest{Step: 7, Handle: 2}},
	}
	for _, s := range seeds {
		f.Add(request(s.op, s.body))
	}
	f.Fuzz(func(t *testing.T, req []byte) {
		fuzzSetup(t)
		resp := dispatch(req)
		if len(resp) == 0 {
			t.Fatal("empty response")
		}
		switch abi.Status(resp[0]) {
		case abi.StatusOK:
		case abi.StatusError:
			r := abi.NewReader(resp[1:])
			e := abi.ReadErrorInfo(r)
			if err := r.End(); err != nil {
				t.Fatalf("error info does not decode: %v", err)
			}
			if e.Stack != "" {
				t.Fatalf("the SDK panicked: %s\n%s", e.Message, e.Stack)
			}
		default:
			t.Fatalf("status %d", resp[0])
		}
	})
}
