//go:build !wasip1

package bx

import (
	"context"
	"os"
	"reflect"
	"testing"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"

	"github.com/bxwasm/bxwasm/internal/abi"
	"github.com/bxwasm/bxwasm/internal/testutil"
)

// wasmGuest calls a guest built from testdata/smoke the way the host does.
type wasmGuest struct {
	t   *testing.T
	ctx context.Context
	mod api.Module
}

func newWasmGuest(t *testing.T) *wasmGuest {
	if testing.Short() {
		t.Skip("builds a wasm module")
	}
	path := testutil.BuildWasm(t, "testdata/smoke")
	bin, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	rt := wazero.NewRuntime(ctx)
	t.Cleanup(func() { rt.Close(ctx) })
	wasi_snapshot_preview1.MustInstantiate(ctx, rt)
	mod, err := rt.InstantiateWithConfig(ctx, bin, wazero.NewModuleConfig().WithStartFunctions(abi.ExportInitialize))
	if err != nil {
		t.Fatal(err)
	}
	return &wasmGuest{t: t, ctx: ctx, mod: mod}
}

func (g *wasmGuest) export(name string, args ...uint64) uint64 {
	g.t.Helper()
	fn := g.mod.ExportedFunction(name)
	if fn == nil {
		g.t.Fatalf("guest does not export %s", name)
	}
	res, err := fn.Call(g.ctx, args...)
	if err != nil {
		g.t.Fatalf("%s: %v", name, err)
	}
	return res[0]
}

// call sends a request and returns the status and a copy of the body.
func (g *wasmGuest) call(op abi.Op, body encoder) (abi.Status, []byte) {
	g.t.Helper()
	req := request(op, body)
	ptr := uint32(g.export(abi.ExportBuffer, uint64(len(req))))
	if !g.mod.Memory().Write(ptr, req) {
		g.t.Fatalf("buffer at %d is outside memory", ptr)
	}
	ret := g.export(abi.ExportCall, uint64(len(req)))
	resp, ok := g.mod.Memory().Read(uint32(ret>>32), uint32(ret))
	if !ok || len(resp) == 0 {
		g.t.Fatalf("response %x is outside memory", ret)
	}
	return abi.Status(resp[0]), append([]byte(nil), resp[1:]...)
}

func TestWasmGuest(t *testing.T) {
	g := newWasmGuest(t)
	if v := g.export(abi.ExportVersion); v != abi.Version {
		t.Fatalf("abi version %d", v)
	}

	st, b := g.call(abi.OpListFlows, nil)
	l := abi.ReadFlowList(abi.NewReader(b))
	want := abi.FlowList{Flows: []abi.FlowInfo{{Name: "upper", Params: []abi.Param{{Name: "path", Type: abi.ArgString}}}}}
	if st != abi.StatusOK || !reflect.DeepEqual(l, want) {
		t.Fatalf("flows %d %+v", st, l)
	}

	st, b = g.call(abi.OpBuild, &abi.BuildRequest{Flow: "upper", Args: []abi.Arg{{Type: abi.ArgString, S: "in.txt"}}})
	graph, err := abi.DecodeGraph(abi.NewReader(b))
	if st != abi.StatusOK || err != nil {
		t.Fatalf("build: %d %v %q", st, err, b)
	}
	if ids := stepIDs(graph); !reflect.DeepEqual(ids, []string{"smoke.inp", "smoke.upper", "smoke.out"}) || graph.Steps[0].Arg != "in.txt" {
		t.Fatalf("graph %+v", graph)
	}

	g.call(abi.OpFuse, &abi.FuseRequest{Chain: 1, Steps: []uint32{1}})
	big := make([]string, 5000) // a request larger than the first buffer
	for i := range big {
		big[i] = "line"
	}
	st, b = g.call(abi.OpRunChain, &abi.ChainRequest{Chain: 1, Batch: batchOf(big...)})
	out := abi.ReadChainResponse(abi.NewReader(b))
	if st != abi.StatusOK || len(out.Outputs) != 1 || out.Outputs[0].N != len(big) {
		t.Fatalf("run chain: %d %q", st, b)
	}
	if vs := valuesOf[string](t, out.Outputs[0]); vs[0] != "LINE" || vs[len(vs)-1] != "LINE" {
		t.Errorf("outputs %q...", vs[:2])
	}

	st, b = g.call(abi.OpRunChain, &abi.ChainRequest{Chain: 1, Batch: batchOf("ok", "panic")})
	e := abi.ReadErrorInfo(abi.NewReader(b))
	if st != abi.StatusError || e.Message != "error calling mapper in step smoke.upper: asked to" || e.Step != 1 || e.Stack == "" {
		t.Errorf("panic: %d %+v", st, e)
	}
	// the instance is still usable after a recovered panic
	if st, _ = g.call(abi.OpRunChain, &abi.ChainRequest{Chain: 1, Batch: batchOf("x")}); st != abi.StatusOK {
		t.Errorf("after panic: status %d", st)
	}
}

func TestWasmCallOutOfBuffer(t *testing.T) {
	g := newWasmGuest(t)
	g.export(abi.ExportBuffer, 8)
	ret := g.export(abi.ExportCall, 1<<30)
	resp, ok := g.mod.Memory().Read(uint32(ret>>32), uint32(ret))
	if !ok || len(resp) == 0 || abi.Status(resp[0]) != abi.StatusError {
		t.Fatalf("response %x ok=%v", resp, ok)
	}
	e := abi.ReadErrorInfo(abi.NewReader(resp[1:]))
	if want := "bx: malformed request: length 1073741824 is outside the request buffer of 4096 bytes"; e.Message != want {
		t.Errorf("message %q, want %q", e.Message, want)
	}
}
