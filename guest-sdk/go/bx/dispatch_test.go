package bx

import (
	"strings"
	"testing"
	"time"

	"github.com/bxwasm/bxwasm/guest-sdk/go/abi"
)

func TestMalformedRequests(t *testing.T) {
	buildFlow(t, bufFlow)
	tests := []struct {
		name string
		req  []byte
		want string
	}{
		{"empty", nil, "bx: malformed request: empty request"},
		{"unknown op", []byte{200}, "bx: malformed request: unknown op 200"},
		{"op zero", []byte{0}, "unknown op 0"},
		{"trailing bytes", append(request(abi.OpListFlows, nil), 1, 2), "list flows: abi: 2 trailing bytes"},
		{"truncated build", []byte{byte(abi.OpBuild), 5, 'a'}, "build: abi: length past end of frame"},
		{"truncated stateful", []byte{byte(abi.OpStatefulBatch), 1}, "stateful batch: abi: frame ends early"},
		{"bad arg type", []byte{byte(abi.OpBuild), 1, 'x', 1, 9, 0}, "abi: unknown argument type"},
		{"batch count lies", request(abi.OpStatefulBatch, &abi.StatefulRequest{Step: 1, Batch: abi.Batch{N: 1, Body: []byte{0, 0, 0, 0}}}), "batch count does not match"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := dispatch(tt.req)
			if abi.Status(resp[0]) != abi.StatusError {
				t.Fatalf("status %d", resp[0])
			}
			r := abi.NewReader(resp[1:])
			e := abi.ReadErrorInfo(r)
			if err := r.End(); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(e.Message, tt.want) {
				t.Errorf("message %q does not contain %q", e.Message, tt.want)
			}
		})
	}
}

// panicky panics in the method named by when.
type panicky struct{ when string }

func (p panicky) at(what string) {
	if p.when == what {
		panic(what + " failed")
	}
}

func (p panicky) OnBatch([]string) ([]string, bool) { p.at("on_batch"); return nil, false }
func (p panicky) OnNotify() ([]string, bool)        { p.at("on_notify"); return nil, false }
func (p panicky) OnEOF() ([]string, bool)           { p.at("on_eof"); return nil, false }
func (p panicky) NotifyAt() (time.Time, bool)       { p.at("notify_at"); return time.Unix(1, 0), true }
func (p panicky) Snapshot() string                  { p.at("snapshot"); return "" }
func (p panicky) ListParts() []string               { p.at("list_parts"); return []string{"x"} }
func (p panicky) BuildPart(_, _ string, _ *string) StatefulSourcePartition[string, string] {
	p.at("build_part")
	return p
}
func (p panicky) NextBatch() ([]string, error) { p.at("next_batch"); return nil, nil }
func (p panicky) NextAwake() (time.Time, bool) { p.at("next_awake"); return time.Time{}, false }
func (p panicky) Close()                       { p.at("close") }
func (p panicky) Build(string, int, int) StatelessSinkPartition[string] {
	p.at("build")
	return p
}
func (p panicky) WriteBatch([]string) { p.at("write_batch") }

func TestGuestPanics(t *testing.T) {
	type req struct {
		op   abi.Op
		body encoder
	}
	kv := batchOf(KV[string]{Key: "k", Value: "v"})
	tests := []struct {
		when  string
		calls []req // the last one panics
		step  string
		key   string
		part  string
	}{
		{"builder", []req{{abi.OpStatefulBatch, &abi.StatefulRequest{Step: 2, Batch: kv}}}, "f.logic", "k", ""},
		{"on_batch", []req{{abi.OpStatefulBatch, &abi.StatefulRequest{Step: 2, Batch: kv}}}, "f.logic", "k", ""},
		{"notify_at", []req{{abi.OpStatefulBatch, &abi.StatefulRequest{Step: 2, Batch: kv}}}, "f.logic", "k", ""},
		{"on_notify", []req{{abi.OpRestore, &abi.Snapshots{Step: 2, Items: []abi.KeySnap{{Key: "r", Present: true}}}},
			{abi.OpNotify, &abi.KeysRequest{Step: 2, Keys: []string{"r"}}}}, "f.logic", "r", ""},
		{"on_eof", []req{{abi.OpRestore, &abi.Snapshots{Step: 2, Items: []abi.KeySnap{{Key: "e", Present: true}}}},
			{abi.OpEOF, &abi.StepRequest{Step: 2}}}, "f.logic", "e", ""},
		{"snapshot", []req{{abi.OpRestore, &abi.Snapshots{Step: 2, Items: []abi.KeySnap{{Key: "s", Present: true}}}},
			{abi.OpSnapshot, &abi.KeysRequest{Step: 2, Keys: []string{"s"}}}}, "f.logic", "s", ""},
		{"list_parts", []req{{abi.OpListParts, &abi.PartsRequest{Step: 0}}}, "f.inp", "", ""},
		{"build_part", []req{{abi.OpBuildPart, &abi.BuildPartRequest{Step: 0, Part: "x"}}}, "f.inp", "", "x"},
		{"next_batch", []req{{abi.OpBuildPart, &abi.BuildPartRequest{Step: 0, Part: "x"}},
			{abi.OpNextBatch, &abi.HandleRequest{Step: 0}}}, "f.inp", "", "x"},
		{"next_awake", []req{{abi.OpBuildPart, &abi.BuildPartRequest{Step: 0, Part: "x"}},
			{abi.OpNextBatch, &abi.HandleRequest{Step: 0}}}, "f.inp", "", "x"},
		{"close", []req{{abi.OpBuildPart, &abi.BuildPartRequest{Step: 0, Part: "x"}},
			{abi.OpClosePart, &abi.HandleRequest{Step: 0}}}, "f.inp", "", "x"},
		{"build", []req{{abi.OpBuildPart, &abi.BuildPartRequest{Step: 5}}}, "f.out", "", ""},
		{"write_batch", []req{{abi.OpBuildPart, &abi.BuildPartRequest{Step: 5}},
			{abi.OpWriteBatch, &abi.WriteRequest{Step: 5, Batch: batchOf("x")}}}, "f.out", "", ""},
		{"predicate", []req{{abi.OpFuse, &abi.FuseRequest{Steps: []uint32{3}}},
			{abi.OpRunChain, &abi.ChainRequest{Batch: batchOf(KV[string]{Key: "k"})}}}, "f.split", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.when, func(t *testing.T) {
			p := panicky{tt.when}
			g := buildFlow(t, func() *Dataflow {
				f := NewDataflow("f")
				in := Input("inp", f, PartitionedSource[string, string](p))
				keyed := FlatMapBatch("key", in, func([]string) []KV[string] { return nil })
				out := StatefulBatch("logic", keyed, func(*string) StatefulBatchLogic[string, string, string] {
					p.at("builder")
					return p
				})
				yes, _ := Branch("split", out, func(KV[string]) bool { p.at("predicate"); return true })
				Output("out", FlatMapBatch("val", yes, func([]KV[string]) []string { return nil }), DynamicOutput[string](p))
				return f
			})
			for _, c := range tt.calls[:len(tt.calls)-1] {
				call(t, c.op, c.body) // must not panic
			}
			last := tt.calls[len(tt.calls)-1]
			e := callErr(t, last.op, last.body)
			want := "error calling " + tt.when + " in step " + tt.step
			if tt.key != "" {
				want += ` for key "` + tt.key + `"`
			}
			if tt.part != "" {
				want += ` for partition "` + tt.part + `"`
			}
			want += ": " + tt.when + " failed"
			if e.Message != want {
				t.Errorf("message %q\n   want %q", e.Message, want)
			}
			if e.Step < 0 || g.Steps[e.Step].ID != tt.step || e.HasKey != (tt.key != "") || e.Key != tt.key {
				t.Errorf("located at step %d key %v %q", e.Step, e.HasKey, e.Key)
			}
			if !strings.Contains(e.Stack, "panicky") {
				t.Errorf("stack does not name the panicking code:\n%s", e.Stack)
			}
		})
	}
}
