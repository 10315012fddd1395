package host_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/bxwasm/bxwasm/host"
	"github.com/bxwasm/bxwasm/internal/testutil"
)

func flows(t *testing.T) string { return testutil.BuildWasm(t, "testdata/flows") }

func opts(t *testing.T, workers int) host.Options {
	return host.Options{WorkersPerProcess: workers, CacheDir: testutil.CacheDir(t), WorkDir: t.TempDir(),
		Stdout: &bytes.Buffer{}, Stderr: &bytes.Buffer{}}
}

func items(ss ...string) [][]byte {
	out := make([][]byte, len(ss))
	for i, s := range ss {
		out[i] = []byte(s)
	}
	return out
}

func sorted(ss []string) []string {
	ss = append([]string(nil), ss...)
	sort.Strings(ss)
	return ss
}

func TestTestRunCapturesOutputs(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name   string
		inputs host.TestInputs
		want   []string
	}{
		{"declared source", nil, []string{"A", "B"}},
		{"replaced source", host.TestInputs{"upper.inp": items("x", "y", "z")}, []string{"X", "Y", "Z"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, err := host.TestRun(ctx, flows(t), "upper", c.inputs, opts(t, 2))
			if err != nil {
				t.Fatal(err)
			}
			if got := sorted(out.Strings("upper.out")); strings.Join(got, ",") != strings.Join(c.want, ",") {
				t.Errorf("got %q, want %q", got, c.want)
			}
		})
	}
}

// TestSumIsTheSameOnAnyNumberOfWorkers checks keyed state against an
// independent sum, for several worker counts.
func TestSumIsTheSameOnAnyNumberOfWorkers(t *testing.T) {
	var in []string
	want := map[string]int{}
	for i := 0; i < 5000; i++ {
		k := fmt.Sprintf("k%d", (i*7919)%97)
		in = append(in, fmt.Sprintf("%s:%d", k, i))
		want[k] += i
	}
	var wantLines []string
	for k, v := range want {
		wantLines = append(wantLines, fmt.Sprintf("%s=%d", k, v))
	}
	wantLines = sorted(wantLines)
	for _, w := range []int{1, 2, 4} {
		t.Run(fmt.Sprintf("w%d", w), func(t *testing.T) {
			out, err := host.TestRun(context.Background(), flows(t), "sum", host.TestInputs{"sum.inp": items(in...)}, opts(t, w))
			if err != nil {
				t.Fatal(err)
			}
			if got := sorted(out.Strings("sum.out")); strings.Join(got, "\n") != strings.Join(wantLines, "\n") {
				t.Errorf("got %d lines, want %d; first got %q", len(got), len(wantLines), got[:min(3, len(got))])
			}
		})
	}
}

func TestRunWritesFileLinesToStdout(t *testing.T) {
	o := opts(t, 2)
	if err := os.WriteFile(filepath.Join(o.WorkDir, "in.txt"), []byte("one\ntwo\r\nthree"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := host.Run(context.Background(), flows(t), "lines('in.txt')", o); err != nil {
		t.Fatal(err)
	}
	got := sorted(strings.Split(strings.TrimSpace(o.Stdout.(*bytes.Buffer).String()), "\n"))
	if strings.Join(got, ",") != "one,three,two" {
		t.Errorf("stdout lines: %q", got)
	}
}

func TestTimersFireBeforeEOF(t *testing.T) {
	out, err := host.TestRun(context.Background(), flows(t), "timer(300)", nil, opts(t, 2))
	if err != nil {
		t.Fatal(err)
	}
	if got := out.Strings("timer.out"); strings.Join(got, ",") != "k=notified" {
		t.Errorf("got %q, want the timer to fire before the input ends", got)
	}
}

func TestGuestPanicsNameStepWorkerAndKey(t *testing.T) {
	cases := []struct {
		name, spec string
		input      []string
		step, op   string
		key        string
		msg        string
	}{
		{"stateless", "boom('map')", []string{"a:1", "bad:0"}, "boom.parse", "flat_map_batch", "", "cannot parse bad:0"},
		{"stateful", "boom('state')", []string{"a:1", "bad:-1"}, "boom.sum", "stateful_batch", "bad", "negative value"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := host.TestRun(context.Background(), flows(t), c.spec, host.TestInputs{"boom.inp": items(c.input...)}, opts(t, 2))
			var se *host.StepError
			if !errors.As(err, &se) {
				t.Fatalf("got %v, want a StepError", err)
			}
			if se.StepID != c.step || se.Operator != c.op || se.Key != c.key || !strings.Contains(se.Message, c.msg) {
				t.Errorf("got step %q op %q key %q message %q", se.StepID, se.Operator, se.Key, se.Message)
			}
			if named := fmt.Sprintf("failed on worker %d", se.Worker); se.Worker < 0 || se.Worker > 1 || !strings.Contains(err.Error(), named) {
				t.Errorf("error does not name worker %d: %v", se.Worker, err)
			}
			var ge *host.GuestError
			if !errors.As(err, &ge) || ge.Message != se.Message || ge.Key != c.key || ge.HasKey != (c.key != "") {
				t.Errorf("got guest error %+v in %v, want message %q and key %q", ge, err, se.Message, c.key)
			}
		})
	}
}

func TestLoadAndBuildErrors(t *testing.T) {
	dir := t.TempDir()
	notWasm := filepath.Join(dir, "notes.wasm")
	os.WriteFile(notWasm, []byte("hello"), 0o644)
	cases := []struct {
		name, module, spec string
		is                 error
		msg                string
	}{
		{"missing file", filepath.Join(dir, "nope.wasm"), "flow", host.ErrModuleNotFound, "nope.wasm"},
		{"not wasm", notWasm, "flow", host.ErrNotWasm, "notes.wasm"},
		{"no such flow", "", "nope", host.ErrNoFlow, "factory(n int, name string, ratio float64, on bool)"},
		{"bad spec", "", "upper(", nil, "upper("},
		{"too few args", "", "factory(1)", nil, "factory(n int, name string, ratio float64, on bool)"},
		{"wrong type", "", "factory('x', 'a', 1.0, true)", nil,
			"argument 1 (n) of factory(n int, name string, ratio float64, on bool): want int, got string"},
		{"factory error", "", "factory(-1, 'a', 1.0, true)", nil, "n must not be negative"},
		{"duplicate step id", "", "dup", nil, `duplicate step id "dup.inp"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			module := c.module
			if module == "" {
				module = flows(t)
			}
			err := host.Run(context.Background(), module, c.spec, opts(t, 1))
			if err == nil || (c.is != nil && !errors.Is(err, c.is)) || !strings.Contains(err.Error(), c.msg) {
				t.Fatalf("got %v, want an error (%v) mentioning %q", err, c.is, c.msg)
			}
		})
	}
}

func TestFactoryArguments(t *testing.T) {
	out, err := host.TestRun(context.Background(), flows(t), "factory(3, 'x y', 2, True)", nil, opts(t, 1))
	if err != nil {
		t.Fatal(err)
	}
	if got := out.Strings("factory.out"); strings.Join(got, ",") != "3 x y 2 true" {
		t.Errorf("got %q", got)
	}
}

func TestRefusedPathFailsBeforeRunning(t *testing.T) {
	err := host.Run(context.Background(), flows(t), "lines('../outside.txt')", opts(t, 1))
	var ce *host.ConnectorError
	if !errors.As(err, &ce) || ce.StepID != "lines.inp" || !strings.Contains(err.Error(), "--allow-path") {
		t.Fatalf("got %v, want a ConnectorError for lines.inp suggesting --allow-path", err)
	}
}

// TestNoGoroutineLeaksAfterFailedRuns fails runs in several ways and checks
// the goroutine count comes back down.
func TestNoGoroutineLeaksAfterFailedRuns(t *testing.T) {
	module := flows(t)
	ctx := context.Background()
	host.TestRun(ctx, module, "upper", nil, opts(t, 1)) // warm up lazily started runtime goroutines
	before := runtime.NumGoroutine()
	for i := 0; i < 3; i++ {
		host.TestRun(ctx, module, "boom('map')", host.TestInputs{"boom.inp": items("bad:0")}, opts(t, 4))
		host.TestRun(ctx, module, "boom('state')", host.TestInputs{"boom.inp": items("bad:-1")}, opts(t, 3))
		host.Run(ctx, module, "nope", opts(t, 2))
	}
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		buf := make([]byte, 1<<16)
		t.Fatalf("%d goroutines after failed runs, %d before:\n%s", n, before, buf[:runtime.Stack(buf, true)])
	}
}

// TestFastSourceSlowSinkStaysBounded pushes 256 MiB through a flow whose
// sink sleeps on every batch on the worker that does not read the source.
// Without backpressure the items would pile up
// in the slow worker's inbox; with it, the heap stays far below the volume.
func TestFastSourceSlowSinkStaysBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("moves 256 MiB")
	}
	const n, size = 64 << 10, 4 << 10
	module := flows(t)
	done := make(chan error, 1)
	o := opts(t, 2)
	var out bytes.Buffer // the sink's workers each print "received N"
	o.Stdout = &out
	go func() {
		done <- host.Run(context.Background(), module, fmt.Sprintf("flood(%d, %d, 20)", n, size), o)
	}()
	var peak uint64
	var ms runtime.MemStats
	for running := true; running; {
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
			running = false
		case <-time.After(20 * time.Millisecond):
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapInuse)
		}
	}
	if total := testutil.Received(out.String()); total != n {
		t.Errorf("the sink received %d items, want %d (%q)", total, n, out.String())
	}
	t.Logf("peak heap in use %d MiB for %d MiB of items", peak>>20, n*size>>20)
	if peak > 160<<20 {
		t.Errorf("peak heap in use %d MiB: memory is not bounded by backpressure", peak>>20)
	}
}
