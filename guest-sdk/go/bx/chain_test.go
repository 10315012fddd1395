package bx

import (
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/bxwasm/bxwasm/guest-sdk/go/abi"
)

// chainFlow is inp -> double -> tostr -> look -> split(branch) -> outs, and
// a second input feeding a stateful step, for fusion tests.
func chainFlow(seen *[]string) func() *Dataflow {
	return func() *Dataflow {
		f := NewDataflow("c")
		nums := Input("inp", f, FileSource("x"))
		doubled := FlatMapBatch("double", nums, func(xs []string) []int {
			var out []int
			for _, x := range xs {
				n, err := strconv.Atoi(x)
				if err != nil {
					panic("not a number: " + x)
				}
				out = append(out, 2*n)
			}
			return out
		})
		strs := FlatMapBatch("tostr", doubled, func(ns []int) []string {
			var out []string
			for _, n := range ns {
				out = append(out, strconv.Itoa(n))
			}
			return out
		})
		looked := InspectDebug("look", strs, func(id, s string, epoch uint64, worker int) {
			*seen = append(*seen, id+"/"+s+"/"+strconv.FormatUint(epoch, 10)+"/"+strconv.Itoa(worker))
		})
		big, small := Branch("big", looked, func(s string) bool { return len(s) > 1 })
		Output("o1", big, StdOutSink())
		Output("o2", small, StdOutSink())
		return f
	}
}

func runChainOK(t *testing.T, chain uint32, b abi.Batch) [][]string {
	t.Helper()
	r := call(t, abi.OpRunChain, &abi.ChainRequest{Chain: chain, Worker: 3, Epoch: 7, Batch: b})
	resp := abi.ReadChainResponse(r)
	checkEnd(t, r)
	var outs [][]string
	for _, o := range resp.Outputs {
		outs = append(outs, valuesOf[string](t, o))
	}
	return outs
}

func TestRunChain(t *testing.T) {
	var seen []string
	buildFlow(t, chainFlow(&seen))
	tests := []struct {
		name  string
		steps []uint32
		in    abi.Batch
		want  [][]string
		seen  []string
	}{
		{"whole chain ending in branch", []uint32{1, 2, 3, 4}, batchOf("1", "7", "50"),
			[][]string{{"14", "100"}, {"2"}}, []string{"c.look/2/7/3", "c.look/14/7/3", "c.look/100/7/3"}},
		{"one step", []uint32{4}, batchOf("a", "bb"), [][]string{{"bb"}, {"a"}}, nil},
		{"empty batch", []uint32{1, 2}, batchOf[string](), [][]string{{}}, nil},
		{"no branch", []uint32{1, 2, 3}, batchOf("4"), [][]string{{"8"}}, []string{"c.look/8/7/3"}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			seen = nil
			call(t, abi.OpFuse, &abi.FuseRequest{Chain: uint32(10 + i), Steps: tt.steps})
			got := runChainOK(t, uint32(10+i), tt.in)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("outputs %q, want %q", got, tt.want)
			}
			if !reflect.DeepEqual(seen, tt.seen) {
				t.Errorf("inspected %q, want %q", seen, tt.seen)
			}
		})
	}
}

func TestChainErrors(t *testing.T) {
	var seen []string
	g := buildFlow(t, chainFlow(&seen))
	call(t, abi.OpFuse, &abi.FuseRequest{Chain: 1, Steps: []uint32{1, 2}})
	tests := []struct {
		name string
		op   abi.Op
		body encoder
		want string
		step int
	}{
		{"fuse empty", abi.OpFuse, &abi.FuseRequest{Chain: 2}, "chain 2 has no steps", -1},
		{"fuse out of range", abi.OpFuse, &abi.FuseRequest{Chain: 2, Steps: []uint32{9}}, "step index 9, the flow has 7 steps", -1},
		{"fuse an input", abi.OpFuse, &abi.FuseRequest{Chain: 2, Steps: []uint32{0}}, "step 0 (c.inp) is a input step, which cannot be fused", -1},
		{"fuse unconnected", abi.OpFuse, &abi.FuseRequest{Chain: 2, Steps: []uint32{1, 3}}, "step c.look does not read the only output of step c.double", -1},
		{"fuse after branch", abi.OpFuse, &abi.FuseRequest{Chain: 2, Steps: []uint32{4, 4}}, "does not read the only output of step c.big", -1},
		{"unknown chain", abi.OpRunChain, &abi.ChainRequest{Chain: 99}, "chain 99 was not fused", -1},
		{"undecodable item", abi.OpRunChain, &abi.ChainRequest{Chain: 1, Batch: abi.Batch{N: 1, Body: []byte{0, 5}}}, "malformed request", -1},
		{"mapper panic", abi.OpRunChain, &abi.ChainRequest{Chain: 1, Batch: batchOf("1", "x")},
			`error calling mapper in step c.double: not a number: x`, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := callErr(t, tt.op, tt.body)
			if !strings.Contains(e.Message, tt.want) {
				t.Errorf("message %q does not contain %q", e.Message, tt.want)
			}
			if e.Step != tt.step {
				t.Errorf("step %d, want %d (%s)", e.Step, tt.step, g.Steps[max(e.Step, 0)].ID)
			}
		})
	}
	// the chain still works after its user code panicked
	if got := runChainOK(t, 1, batchOf("2")); !reflect.DeepEqual(got, [][]string{{"4"}}) {
		t.Errorf("after panic: %q", got)
	}
}

func TestPanicHasStack(t *testing.T) {
	var seen []string
	buildFlow(t, chainFlow(&seen))
	call(t, abi.OpFuse, &abi.FuseRequest{Chain: 1, Steps: []uint32{1}})
	e := callErr(t, abi.OpRunChain, &abi.ChainRequest{Chain: 1, Batch: batchOf("y")})
	if !strings.Contains(e.Stack, "chainFlow") {
		t.Errorf("stack does not show the mapper:\n%s", e.Stack)
	}
}

func TestRequestsBeforeBuild(t *testing.T) {
	d.flow, d.chains = nil, nil
	tests := []struct {
		name string
		op   abi.Op
		body encoder
	}{
		{"fuse", abi.OpFuse, &abi.FuseRequest{Steps: []uint32{0}}},
		{"run chain", abi.OpRunChain, &abi.ChainRequest{}},
		{"stateful", abi.OpStatefulBatch, &abi.StatefulRequest{}},
		{"list parts", abi.OpListParts, &abi.PartsRequest{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := callErr(t, tt.op, tt.body)
			if !strings.Contains(e.Message, "no flow built yet") && !strings.Contains(e.Message, "not fused") {
				t.Errorf("message %q", e.Message)
			}
		})
	}
}

func TestChainDecodeError(t *testing.T) {
	g := buildFlow(t, func() *Dataflow {
		f := NewDataflow("d")
		in := Input("inp", f, TestingSource([]int{1}, 1))
		var got []int
		Output("out", FlatMapBatch("m", in, func(xs []int) []int { return xs }), captureSink(&got))
		return f
	})
	m := stepIndex(t, g, "d.m")
	call(t, abi.OpFuse, &abi.FuseRequest{Chain: 1, Steps: []uint32{m}})
	e := callErr(t, abi.OpRunChain, &abi.ChainRequest{Chain: 1, Batch: batchOf("not a varint")})
	if want := "decoding an item for step d.m: bx: cannot decode value"; !strings.HasPrefix(e.Message, want) || e.Step != int(m) {
		t.Errorf("error %q at step %d, want %q at %d", e.Message, e.Step, want, m)
	}
}

// BenchmarkRunChain measures a three-step fused chain on batches of 1024
// short strings, decode and encode included.
func BenchmarkRunChain(b *testing.B) {
	var seen []string
	buildFlow(b, chainFlow(&seen))
	call(b, abi.OpFuse, &abi.FuseRequest{Chain: 1, Steps: []uint32{1, 2}})
	items := make([]string, 1024)
	for i := range items {
		items[i] = strconv.Itoa(i)
	}
	req := request(abi.OpRunChain, &abi.ChainRequest{Chain: 1, Batch: batchOf(items...)})
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if resp := dispatch(req); resp[0] != byte(abi.StatusOK) {
			b.Fatal("chain failed")
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(items)), "ns/item")
}

// BenchmarkIdentityChain measures the SDK's own cost per item: decode a
// string, pass it through two steps, encode it.
func BenchmarkIdentityChain(b *testing.B) {
	g := buildFlow(b, func() *Dataflow {
		f := NewDataflow("id")
		s := Input("inp", f, FileSource("x"))
		same := func(xs []string) []string { return xs }
		Output("out", FlatMapBatch("b", FlatMapBatch("a", s, same), same), StdOutSink())
		return f
	})
	call(b, abi.OpFuse, &abi.FuseRequest{Chain: 1, Steps: []uint32{stepIndex(b, g, "id.a"), stepIndex(b, g, "id.b")}})
	items := make([]string, 1024)
	for i := range items {
		items[i] = "some line of text " + strconv.Itoa(i)
	}
	req := request(abi.OpRunChain, &abi.ChainRequest{Chain: 1, Batch: batchOf(items...)})
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if resp := dispatch(req); resp[0] != byte(abi.StatusOK) {
			b.Fatal("chain failed")
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(items)), "ns/item")
}

// TestChainKeepsWhatUsersKeep runs two batches through a chain whose user
// functions keep the slices and strings they are given, in one request
// buffer overwritten between the calls as the guest's is: what a user
// function kept from the first batch must still read as the first batch,
// however the chain reuses its slices for steps that only borrow theirs.
func TestChainKeepsWhatUsersKeep(t *testing.T) {
	var keptIn, keptOut [][]string
	var keptStrs []string
	g := buildFlow(t, func() *Dataflow {
		f := NewDataflow("k")
		lines := Input("inp", f, FileSource("x"))
		in := FlatMapBatch("in", lines, func(xs []string) []string { keptIn = append(keptIn, xs); return xs })
		ids := Map("id", in, func(s string) string { keptStrs = append(keptStrs, s); return s })
		looked := InspectDebug("look", ids, func(string, string, uint64, int) {})
		out := FlatMapBatch("out", looked, func(xs []string) []string { keptOut = append(keptOut, xs); return xs })
		Output("o", out, StdOutSink())
		return f
	})
	var steps []uint32
	for _, id := range []string{"k.in", "k.id.flat_map_batch", "k.look", "k.out"} {
		steps = append(steps, stepIndex(t, g, id))
	}
	call(t, abi.OpFuse, &abi.FuseRequest{Chain: 1, Steps: steps})
	first, second := []string{"a1", "a2", "a3"}, []string{"b1", "b2", "b3"}
	req := request(abi.OpRunChain, &abi.ChainRequest{Chain: 1, Batch: batchOf(first...)})
	for _, batch := range [][]string{first, second} {
		copy(req, request(abi.OpRunChain, &abi.ChainRequest{Chain: 1, Batch: batchOf(batch...)}))
		if resp := dispatch(req); resp[0] != byte(abi.StatusOK) {
			t.Fatalf("chain failed: %q", resp)
		}
	}
	want := [][]string{first, second}
	if !reflect.DeepEqual(keptIn, want) || !reflect.DeepEqual(keptOut, want) {
		t.Errorf("kept slices read %q at the input and %q at the output, want %q", keptIn, keptOut, want)
	}
	if wantStrs := append(slices.Clone(first), second...); !slices.Equal(keptStrs, wantStrs) {
		t.Errorf("kept strings read %q, want %q", keptStrs, wantStrs)
	}
}
