package host_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bxwasm/bxwasm/host"
	"github.com/bxwasm/bxwasm/internal/cluster"
	"github.com/bxwasm/bxwasm/internal/testutil"
)

// startNATS runs an embedded nats-server for the test.
func startNATS(t *testing.T) string {
	t.Helper()
	srv, url, err := cluster.StartServer(cluster.ServerConfig{Listen: "127.0.0.1:0", Name: "test"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Shutdown)
	return url
}

// clusterRun runs every process of a clustered run in goroutines of this
// test, sharing one NATS, and returns each process's error and the lines
// all of them wrote to stdout.
func clusterRun(t *testing.T, url, run, module, spec, workDir string, procs, workers int) ([]error, []string) {
	t.Helper()
	return clusterRunWith(t, url, run, module, spec, workDir, procs, workers, nil)
}

// clusterRunWith is clusterRun with options changed by set (when not nil).
func clusterRunWith(t *testing.T, url, run, module, spec, workDir string, procs, workers int, set func(*host.Options)) ([]error, []string) {
	t.Helper()
	errs := make([]error, procs)
	outs := make([]bytes.Buffer, procs)
	var wg sync.WaitGroup
	for p := 0; p < procs; p++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			o := host.Options{WorkersPerProcess: workers, Processes: procs, ProcessID: p, NATSURL: url, RunID: run,
				CacheDir: testutil.CacheDir(t), WorkDir: workDir, Stdout: &outs[p], Stderr: &bytes.Buffer{}}
			if set != nil {
				set(&o)
			}
			errs[p] = host.Run(context.Background(), module, spec, o)
		}()
	}
	wg.Wait()
	var lines []string
	for i := range outs {
		if s := strings.TrimSpace(outs[i].String()); s != "" {
			lines = append(lines, strings.Split(s, "\n")...)
		}
	}
	return errs, sorted(lines)
}

// TestSameAnswersAtAnyScale runs the word count and a keyed sum on one to
// three processes and checks every scale prints exactly the lines counted
// here from the input.
func TestSameAnswersAtAnyScale(t *testing.T) {
	dir := t.TempDir()
	var text, sums strings.Builder
	words, totals := map[string]int{}, map[string]int{}
	for i := 0; i < 3000; i++ {
		fmt.Fprintf(&text, "w%d W%d x%d\n", i%37, i%11, i%5)
		fmt.Fprintf(&sums, "k%d:%d\n", i%41, i)
		words[fmt.Sprintf("w%d", i%37)]++
		words[fmt.Sprintf("w%d", i%11)]++ // lower-cased by the flow
		words[fmt.Sprintf("x%d", i%5)]++
		totals[fmt.Sprintf("k%d", i%41)] += i
	}
	os.WriteFile(filepath.Join(dir, "text.txt"), []byte(text.String()), 0o644)
	os.WriteFile(filepath.Join(dir, "sums.txt"), []byte(sums.String()), 0o644)
	flows := []struct {
		name, module, spec string
		want               []string
	}{
		{"wordcount", testutil.BuildWasm(t, "../wasm-examples/wordcount"), "get_flow('text.txt')", render(words, "%s\t%d")},
		{"sum", flows(t), "sum_file('sums.txt')", render(totals, "%s=%d")},
	}
	url := startNATS(t)
	for _, f := range flows {
		for _, scale := range [][2]int{{1, 1}, {2, 1}, {2, 2}, {3, 2}} {
			run := fmt.Sprintf("%s-p%dw%d", f.name, scale[0], scale[1])
			errs, got := clusterRun(t, url, run, f.module, f.spec, dir, scale[0], scale[1])
			for p, err := range errs {
				if err != nil {
					t.Fatalf("%s process %d: %v", run, p, err)
				}
			}
			if strings.Join(got, "\n") != strings.Join(f.want, "\n") {
				t.Errorf("%s printed %d lines, want %d:\n got %q\nwant %q", run, len(got), len(f.want), got, f.want)
			}
		}
	}
}

// render formats every key and count of m with format, sorted.
func render(m map[string]int, format string) []string {
	var out []string
	for k, n := range m {
		out = append(out, fmt.Sprintf(format, k, n))
	}
	return sorted(out)
}

// TestGuestPanicStopsEveryProcess fails a stateful step in one process and
// checks that process reports the step error and the others stop too.
func TestGuestPanicStopsEveryProcess(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "sums.txt"), []byte("a:1\nbad:-1\nc:3\n"), 0o644)
	errs, _ := clusterRun(t, startNATS(t), "panic", flows(t), "boom_file('sums.txt')", dir, 2, 2)
	var steps, remotes int
	for _, err := range errs {
		var se *host.StepError
		var re *host.RemoteError
		switch {
		case errors.As(err, &se) && se.Key == "bad":
			steps++
		case errors.As(err, &re):
			remotes++
		default:
			t.Errorf("unexpected error: %v", err)
		}
	}
	if steps != 1 || remotes != 1 {
		t.Errorf("got %d step errors and %d remote errors, want one of each: %v", steps, remotes, errs)
	}
}

// TestSlowConsumerAcrossProcessesLosesNothing floods a two-process run
// whose second process writes slowly: credit must slow the first process
// down, every item must arrive, and the heap must stay far below the
// volume sent.
func TestSlowConsumerAcrossProcessesLosesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("moves 256 MiB")
	}
	const n, size = 64 << 10, 4 << 10
	module := flows(t)
	done := make(chan []string, 1)
	go func() {
		errs, lines := clusterRun(t, startNATS(t), "flood", module, fmt.Sprintf("flood(%d, %d, 20)", n, size), t.TempDir(), 2, 1)
		for _, err := range errs {
			if err != nil {
				t.Error(err)
			}
		}
		done <- lines
	}()
	var peak uint64
	var ms runtime.MemStats
	var lines []string
	deadline := time.After(5 * time.Minute)
	for finished := false; !finished; {
		select {
		case lines = <-done:
			finished = true
		case <-deadline:
			t.Fatal("the run did not end within 5 minutes")
		case <-time.After(20 * time.Millisecond):
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapInuse)
		}
	}
	if total := testutil.Received(strings.Join(lines, "\n")); total != n {
		t.Errorf("sinks received %d items, want %d (%q)", total, n, lines)
	}
	t.Logf("peak heap in use %d MiB for %d MiB of items", peak>>20, n*size>>20)
	if peak > 160<<20 {
		t.Errorf("peak heap in use %d MiB: memory is not bounded by backpressure", peak>>20)
	}
}
