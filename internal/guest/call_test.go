package guest

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bxwasm/bxwasm/guest-sdk/go/abi"
)

func TestBadResponses(t *testing.T) {
	rt := newRuntime(t, Config{})
	tests := []struct {
		name  string
		guest string
		call  func(ctx context.Context, i *Instance) error
		msg   string
	}{
		{"buffer outside memory", "badptr", raw(1, 0, 0), "bxwasm_buffer returned 0xfffffff0 for a 3-byte request"},
		{"response outside memory", "badptr", raw(1), "answered list_flows with 16 bytes at 0xffff0000, outside"},
		{"length wraps memory", "badptr", raw(2), "answered build with 4294967295 bytes"},
		{"unknown status", "badstatus", raw(1), "answered list_flows with unknown status 7"},
		{"empty response", "badstatus", raw(2), "answered build with an empty response"},
		{"truncated error report", "badstatus", raw(3), "error for fuse that does not decode"},
		{"trailing bytes", "badstatus", decode(4, abi.OpListFlows, flows), "malformed list_flows response: abi: 3 trailing bytes"},
		{"batch count mismatch", "badstatus", decode(5, abi.OpRunChain, abi.ReadChainResponse),
			"malformed run_chain response: abi: batch count does not match its items"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			i := instantiate(t, rt, tc.guest)
			err := tc.call(t.Context(), i)
			checkErr(t, err, ErrBadResponse, []string{tc.msg})
		})
	}
}

// decode returns a call sending the request byte b and decoding the answer
// as the response of op.
func decode[T any](b byte, op abi.Op, read func(*abi.Reader) T) func(ctx context.Context, i *Instance) error {
	return func(ctx context.Context, i *Instance) error {
		i.begin(abi.Op(b), 0, 0)
		_, err := request(ctx, i, op, read)
		return err
	}
}

// raw returns a call sending req as is.
func raw(req ...byte) func(ctx context.Context, i *Instance) error {
	return func(ctx context.Context, i *Instance) error {
		_, err := i.Call(ctx, req)
		return err
	}
}

func TestTraps(t *testing.T) {
	var stderr bytes.Buffer
	rt := newRuntime(t, Config{Stderr: &stderr})
	tests := []struct {
		name     string
		op       byte
		exitCode uint32 // 0: trapped without exiting
		msg      []string
	}{
		{"panic", 1, 0, []string{"guest crashed in bxwasm_call (list_flows): wasm error: unreachable",
			"guest stderr:\npanic: trap guest: boom", "main.call"}},
		{"stack overflow", 2, 0, []string{"(build)", "guest stderr:\nfatal error: ", "main.recurse"}},
		{"exit", 3, 3, []string{"(fuse)", "exit_code(3)"}},
		{"nil map write", 5, 0, []string{"panic: assignment to entry in nil map"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			stderr.Reset()
			i := instantiate(t, rt, "trap")
			if _, err := i.Call(t.Context(), []byte{99}); err != nil {
				t.Fatalf("harmless call: %v", err)
			}
			_, err := i.Call(t.Context(), []byte{tc.op})
			checkErr(t, err, nil, tc.msg)
			var te *TrapError
			if !errors.As(err, &te) {
				t.Fatalf("%T is not a TrapError", err)
			}
			if code, exited := te.ExitCode(); code != tc.exitCode || exited != (tc.exitCode != 0) {
				t.Errorf("exit code %d %v, want %d", code, exited, tc.exitCode)
			}
			if !strings.Contains(stderr.String(), te.Stderr) {
				t.Errorf("Config.Stderr %q lacks the guest's stderr %q", stderr.String(), te.Stderr)
			}
			_, err = i.Call(t.Context(), []byte{99})
			checkErr(t, err, ErrClosed, []string{"closed after an earlier crash: guest crashed in bxwasm_call: "})
		})
	}
}

func TestMemoryLimit(t *testing.T) {
	rt := newRuntime(t, Config{MemoryLimitPages: 1024}) // 64 MiB
	i := instantiate(t, rt, "oom")
	var err error
	for n := 0; n < 20 && err == nil; n++ { // 8 MiB per call
		_, err = i.Call(t.Context(), []byte{1})
	}
	checkErr(t, err, nil, []string{"fatal error: out of memory", "guest memory: ", "of 64 MiB"})
	var te *TrapError
	if !errors.As(err, &te) {
		t.Fatalf("%T is not a TrapError", err)
	}
}

func TestInstanceState(t *testing.T) {
	rt := newRuntime(t, Config{})
	canceled, cancel := context.WithCancel(t.Context())
	cancel()
	tests := []struct {
		name string
		ctx  context.Context
		req  []byte
		prep func(i *Instance)
		want error
	}{
		{"closed", t.Context(), []byte{1}, func(i *Instance) { _ = i.Close(t.Context()) }, ErrClosed},
		{"closed twice", t.Context(), []byte{1}, func(i *Instance) { _ = i.Close(t.Context()); _ = i.Close(t.Context()) }, ErrClosed},
		{"canceled context", canceled, []byte{1}, func(*Instance) {}, context.Canceled},
		{"empty request", t.Context(), nil, func(*Instance) {}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			i := instantiate(t, rt, "echo")
			tc.prep(i)
			_, err := i.Call(tc.ctx, tc.req)
			checkErr(t, err, tc.want, nil)
		})
	}
}

func TestCloseOnContextDone(t *testing.T) {
	rt := newRuntime(t, Config{CloseOnContextDone: true})
	i := instantiate(t, rt, "trap")
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	_, err := i.Call(ctx, []byte{4}) // loops forever
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want DeadlineExceeded", err)
	}
	var te *TrapError
	if !errors.As(err, &te) {
		t.Fatalf("%T is not a TrapError", err)
	}
}

func TestParallelInstances(t *testing.T) {
	rt := newRuntime(t, Config{})
	m := load(t, rt, "echo")
	const workers, calls = 8, 50
	errs := make(chan error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() { errs <- runWorker(t.Context(), m, w, calls) })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
}

// runWorker instantiates m and checks that calls echo its own data.
func runWorker(ctx context.Context, m *Module, w, calls int) error {
	i, err := m.Instantiate(ctx)
	if err != nil {
		return err
	}
	defer i.Close(ctx)
	for c := range calls {
		var b abi.Batch
		val := []byte(strings.Repeat(string(rune('a'+w)), c+1))
		b.Append([]byte{byte(w)}, true, val)
		p, err := i.RunChain(ctx, abi.ChainRequest{Chain: uint32(w), Batch: b})
		if err != nil {
			return err
		}
		if !bytes.Equal(p.Outputs[0].Body, b.Body) {
			return errors.New("worker got another worker's data back")
		}
	}
	return nil
}
