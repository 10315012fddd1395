package guest

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/bxwasm/bxwasm/guest-sdk/go/abi"
)

// lines is an unkeyed batch of string values, as the file source makes.
func lines(vs ...string) abi.Batch {
	var b abi.Batch
	for _, v := range vs {
		b.Append(nil, false, []byte(v))
	}
	return b
}

// TestGoSDKGuest drives a guest built with the Go SDK (testdata/gosdk)
// through the ops of a run, as the engine does.
func TestGoSDKGuest(t *testing.T) {
	inst := instantiate(t, newRuntime(t, Config{}), "gosdk")
	ctx := t.Context()
	fl, err := inst.ListFlows(ctx)
	if want := []abi.FlowInfo{{Name: "upper", Params: []abi.Param{{Name: "path", Type: abi.ArgString}}}}; err != nil || !reflect.DeepEqual(fl, want) {
		t.Fatalf("flows %+v, %v", fl, err)
	}
	g, err := inst.Build(ctx, abi.BuildRequest{Flow: "upper", Args: []abi.Arg{{Type: abi.ArgString, S: "in.txt"}}})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, s := range g.Steps {
		ids = append(ids, s.ID)
	}
	if !reflect.DeepEqual(ids, []string{"smoke.inp", "smoke.upper", "smoke.out"}) || g.Steps[0].Arg != "in.txt" {
		t.Fatalf("graph %+v", g)
	}
	if err := inst.Fuse(ctx, abi.FuseRequest{Chain: 1, Steps: []uint32{1}}); err != nil {
		t.Fatal(err)
	}
	big := make([]string, 5000) // a request larger than the guest's first buffer
	for i := range big {
		big[i] = "line"
	}
	out, err := inst.RunChain(ctx, abi.ChainRequest{Chain: 1, Batch: lines(big...)})
	if err != nil {
		t.Fatal(err)
	}
	if got := items(t, out.Outputs[0]); len(got) != len(big) || got[0] != "LINE" || got[len(got)-1] != "LINE" {
		t.Fatalf("outputs %d, first %q", len(got), got[:1])
	}

	_, err = inst.RunChain(ctx, abi.ChainRequest{Chain: 1, Batch: lines("ok", "panic")})
	var ge *abi.GuestError
	if !errors.As(err, &ge) || ge.Info.Message != "error calling mapper in step smoke.upper: asked to" || ge.Info.Step != 1 || ge.Info.Stack == "" {
		t.Fatalf("panic: %v", err)
	}
	// The instance is still usable after a recovered panic.
	if _, err := inst.RunChain(ctx, abi.ChainRequest{Chain: 1, Batch: lines("x")}); err != nil {
		t.Fatalf("after a panic: %v", err)
	}
}

// TestGoSDKCallOutsideBuffer calls bxwasm_call with a length the guest's
// buffer does not hold: the Go SDK answers a StatusError, never reads past it.
func TestGoSDKCallOutsideBuffer(t *testing.T) {
	inst := instantiate(t, newRuntime(t, Config{}), "gosdk")
	ctx := t.Context()
	mod := inst.mod
	if _, err := mod.ExportedFunction(abi.ExportBuffer).Call(ctx, 8); err != nil {
		t.Fatal(err)
	}
	res, err := mod.ExportedFunction(abi.ExportCall).Call(ctx, 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	resp, ok := mod.Memory().Read(uint32(res[0]>>32), uint32(res[0]))
	if !ok || len(resp) == 0 || abi.Status(resp[0]) != abi.StatusError {
		t.Fatalf("response %x ok=%v", resp, ok)
	}
	e := abi.ReadErrorInfo(abi.NewReader(resp[1:]))
	if want := "bx: malformed request: length 1073741824 is outside the request buffer of 4096 bytes"; !strings.Contains(e.Message, want) {
		t.Errorf("message %q, want %q", e.Message, want)
	}
}
