package guest

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bxwasm/bxwasm/guest-sdk/go/abi"
	"github.com/bxwasm/bxwasm/internal/testutil"
)

// instantiateWat assembles testdata/wat/<name>.wat and instantiates it.
func instantiateWat(t *testing.T, rt *Runtime, name string) *Instance {
	t.Helper()
	m, err := rt.Load(t.Context(), testutil.BuildWat(t, filepath.Join("testdata", "wat", name+".wat")))
	if err != nil {
		t.Fatal(err)
	}
	i, err := m.Instantiate(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = i.Close(t.Context()) })
	return i
}

// recordedInfo is the ErrorInfo testdata/wat/lasterror.wat records.
var recordedInfo = abi.ErrorInfo{Message: "boom", Stack: "at f", Step: 2, HasKey: true, Key: "bad"}

func TestLastErrorRecorded(t *testing.T) {
	rt := newRuntime(t, Config{})
	_, statusErr := instantiateWat(t, rt, "lasterror").Call(t.Context(), []byte{5})
	var status *abi.GuestError
	if !errors.As(statusErr, &status) || status.Info != recordedInfo {
		t.Fatalf("StatusError path: %#v, want a GuestError with %#v", statusErr, recordedInfo)
	}

	i := instantiateWat(t, rt, "lasterror")
	_, err := i.Call(t.Context(), []byte{1})
	if err.Error() != statusErr.Error() {
		t.Errorf("recorded crash reads %q, the StatusError %q", err, statusErr)
	}
	var ge *abi.GuestError
	if !errors.As(err, &ge) {
		t.Fatalf("%T %v holds no GuestError", err, err)
	}
	got, want := ge.Info, recordedInfo
	got.Stack, want.Stack = "", ""
	if got != want {
		t.Errorf("recorded info %#v, want %#v", got, want)
	}
	for _, s := range []string{"at f\n\nguest crashed in bxwasm_call (list_flows): wasm error: unreachable", "wasm stack trace:"} {
		if !strings.Contains(ge.Info.Stack, s) {
			t.Errorf("stack %q lacks %q", ge.Info.Stack, s)
		}
	}
	if !strings.HasPrefix(ge.Info.Stack, "at f\n") {
		t.Errorf("stack %q does not start with the guest's own", ge.Info.Stack)
	}
	var te *TrapError
	if !errors.As(err, &te) {
		t.Fatalf("%T is not a TrapError", err)
	}
	_, err = i.Call(t.Context(), []byte{99})
	checkErr(t, err, ErrClosed, []string{"closed after an earlier crash: guest crashed in bxwasm_call: wasm error: unreachable"})
}

func TestLastErrorFallsBackToTheTrap(t *testing.T) {
	rt := newRuntime(t, Config{})
	tests := []struct {
		name     string
		op       byte
		exitCode uint32 // 0: trapped without exiting
		msg      string
	}{
		{"nothing recorded", 2, 0, "guest crashed in bxwasm_call (build): wasm error: unreachable"},
		{"pointer outside memory", 3, 0, "guest crashed in bxwasm_call (fuse): wasm error: unreachable"},
		{"info cut short", 4, 0, "guest crashed in bxwasm_call (run_chain): wasm error: unreachable"},
		{"last_error traps too", 6, 0, "guest crashed in bxwasm_call (notify): wasm error: unreachable"},
		{"exit closes the module", 7, 3, "guest crashed in bxwasm_call (eof): module closed with exit_code(3)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			i := instantiateWat(t, rt, "lasterror")
			_, err := i.Call(t.Context(), []byte{tc.op})
			checkErr(t, err, nil, []string{tc.msg})
			var ge *abi.GuestError
			if errors.As(err, &ge) {
				t.Errorf("fell back to %#v, want the plain trap", ge.Info)
			}
			var te *TrapError
			if !errors.As(err, &te) || te.Recorded != nil {
				t.Fatalf("%T %v: want a TrapError with nothing recorded", err, err)
			}
			if code, exited := te.ExitCode(); code != tc.exitCode || exited != (tc.exitCode != 0) {
				t.Errorf("exit code %d %v, want %d", code, exited, tc.exitCode)
			}
		})
	}
}

func TestLastErrorWrongType(t *testing.T) {
	rt := newRuntime(t, Config{})
	m, err := rt.Load(t.Context(), testutil.BuildWat(t, filepath.Join("testdata", "wat", "lasterror_badsig.wat")))
	if err != nil {
		t.Fatal(err)
	}
	_, err = m.Instantiate(t.Context())
	checkErr(t, err, ErrNotGuest, []string{"lasterror_badsig.wasm exports bxwasm_last_error with type (i32) -> (i32), want () -> (i64)"})
}

func TestBufferAtZeroIsRefused(t *testing.T) {
	rt := newRuntime(t, Config{})
	i := instantiateWat(t, rt, "buffer0")
	_, err := i.Call(t.Context(), []byte{1})
	checkErr(t, err, ErrBadResponse, []string{"bxwasm_buffer returned 0 for a 1-byte request", "must trap"})
	var te *TrapError
	if errors.As(err, &te) {
		t.Fatalf("the host wrote at address 0 and called the guest: %v", err)
	}
}

func TestExtraExportsAndNoInitialize(t *testing.T) {
	rt := newRuntime(t, Config{})
	i := instantiateWat(t, rt, "extras")
	if err := i.Fuse(t.Context(), abi.FuseRequest{Chain: 1, Steps: []uint32{0}}); err != nil {
		t.Fatalf("a guest with extra exports and no _initialize: %v", err)
	}
}
