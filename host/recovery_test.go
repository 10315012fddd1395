package host_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bxwasm/bxwasm/host"
	"github.com/bxwasm/bxwasm/internal/recovery"
)

// stopWhen closes the returned channel once cond holds (polled), or after
// timeout so a test cannot hang.
func stopWhen(t *testing.T, timeout time.Duration, cond func() bool) chan struct{} {
	stop := make(chan struct{})
	go func() {
		defer close(stop)
		for end := time.Now().Add(timeout); time.Now().Before(end) && !cond(); {
			time.Sleep(20 * time.Millisecond)
		}
	}()
	return stop
}

// hasSnapshots reports whether the store in dir holds snapshots of step.
func hasSnapshots(dir, step string) bool {
	sum, err := recovery.Inspect(context.Background(), dir)
	if err != nil {
		return false
	}
	for _, s := range sum.Steps {
		if s.StepID == step && s.Snapshots > 0 {
			return true
		}
	}
	return false
}

// writeSums writes lines "k<i%keys>:<i>" to name in dir and returns the
// lines sum_file prints for it.
func writeSums(t *testing.T, dir, name string, lines, keys int) []string {
	var b strings.Builder
	sums := make([]int, keys)
	for i := 0; i < lines; i++ {
		fmt.Fprintf(&b, "k%d:%d\n", i%keys, i)
		sums[i%keys] += i
	}
	if err := os.WriteFile(filepath.Join(dir, name), []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	want := make([]string, keys)
	for k, s := range sums {
		want[k] = fmt.Sprintf("k%d=%d", k, s)
	}
	return sorted(want)
}

func lines(s string) []string {
	if s = strings.TrimSpace(s); s == "" {
		return nil
	}
	return sorted(strings.Split(s, "\n"))
}

// TestTimersSurviveAGracefulStop stops a run whose key waits for a timer,
// then resumes it: the timer fires in the resumed run, which never sees the
// key's item again.
func TestTimersSurviveAGracefulStop(t *testing.T) {
	o := opts(t, 1)
	o.RecoveryDir, o.EpochInterval = "rec", 50*time.Millisecond
	dir := filepath.Join(o.WorkDir, "rec")
	o.Stop = stopWhen(t, time.Minute, func() bool { return hasSnapshots(dir, "remind.st") })
	if err := host.Run(context.Background(), flows(t), "remind(2000, 3500)", o); err != nil {
		t.Fatal(err)
	}
	if out := o.Stdout.(*bytes.Buffer).String(); out != "" {
		t.Fatalf("the stopped run printed %q", out)
	}
	if msg := o.Stderr.(*bytes.Buffer).String(); !strings.Contains(msg, "run the same command again to resume from epoch") {
		t.Errorf("stderr %q does not say where the run resumes", msg)
	}
	o.Stop, o.Stdout, o.Stderr = nil, &bytes.Buffer{}, &bytes.Buffer{}
	if err := host.Run(context.Background(), flows(t), "remind(2000, 3500)", o); err != nil {
		t.Fatal(err)
	}
	if out := o.Stdout.(*bytes.Buffer).String(); out != "k=notified\n" {
		t.Errorf("resumed run printed %q, want the timer's k=notified", out)
	}
}

// TestResumeOnOtherWorkerCounts stops a keyed sum part-way on one scale and
// finishes it on others; the sums (printed at EOF, by whichever run gets
// there) equal a run that never stopped.
func TestResumeOnOtherWorkerCounts(t *testing.T) {
	work := t.TempDir()
	want := writeSums(t, work, "sums.txt", 200_000, 500)
	dir := filepath.Join(work, "rec")
	var got []string
	for _, workers := range []int{2, 3, 1} {
		o := opts(t, workers)
		o.WorkDir, o.RecoveryDir, o.EpochInterval = work, dir, 20*time.Millisecond
		if workers != 1 {
			// Stop once this execution has moved the input further.
			before := inputSnapshots(dir)
			o.Stop = stopWhen(t, time.Minute, func() bool { return inputSnapshots(dir) > before })
		}
		if err := host.Run(context.Background(), flows(t), "sum_file('sums.txt')", o); err != nil {
			t.Fatalf("-w%d: %v", workers, err)
		}
		got = append(got, lines(o.Stdout.(*bytes.Buffer).String())...)
	}
	got = sorted(got)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("after resuming on -w2, -w3, -w1: %d sums, %d missing from a clean run's %d", len(got), countDiff(got, want), len(want))
	}
}

func inputSnapshots(dir string) int64 {
	sum, err := recovery.Inspect(context.Background(), dir)
	if err != nil {
		return 0
	}
	for _, s := range sum.Steps {
		if s.StepID == "sum.inp" {
			return s.Snapshots
		}
	}
	return 0
}

func countDiff(got, want []string) int {
	in := map[string]bool{}
	for _, g := range got {
		in[g] = true
	}
	n := 0
	for _, w := range want {
		if !in[w] {
			n++
		}
	}
	return n
}

// TestClusterResumesOnOtherScale stops a two-process run part-way and
// finishes it on three processes of one worker.
func TestClusterResumesOnOtherScale(t *testing.T) {
	work := t.TempDir()
	want := writeSums(t, work, "sums.txt", 200_000, 300)
	dir := filepath.Join(work, "rec")
	url := startNATS(t)
	stop := stopWhen(t, time.Minute, func() bool { return hasSnapshots(dir, "sum.sum") })
	set := func(stop <-chan struct{}) func(*host.Options) {
		return func(o *host.Options) { o.RecoveryDir, o.EpochInterval, o.Stop = dir, 20*time.Millisecond, stop }
	}
	errs, first := clusterRunWith(t, url, "rec-p2", flows(t), "sum_file('sums.txt')", work, 2, 2, set(stop))
	for p, err := range errs {
		if err != nil {
			t.Errorf("-p2 process %d: %v", p, err)
		}
	}
	if t.Failed() {
		t.FailNow()
	}
	errs, got := clusterRunWith(t, url, "rec-p3", flows(t), "sum_file('sums.txt')", work, 3, 1, set(nil))
	for p, err := range errs {
		if err != nil {
			t.Fatalf("-p3 process %d: %v", p, err)
		}
	}
	got = sorted(append(got, first...))
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("-p2 then -p3: %d sums (%d from -p2), %d missing from a clean run's %d", len(got), len(first), countDiff(got, want), len(want))
	}
}

// TestStoreOfAnotherFlowIsRefused runs flows against stores they do not
// own: each is an error naming the problem, and the store is unchanged.
func TestStoreOfAnotherFlowIsRefused(t *testing.T) {
	ctx := context.Background()
	work := t.TempDir()
	writeSums(t, work, "sums.txt", 10, 2)
	dir := filepath.Join(work, "rec")
	if err := recovery.Init(dir, 2); err != nil {
		t.Fatal(err)
	}
	st, err := recovery.OpenSQLite(ctx, dir, recovery.SQLiteOptions{FlowID: "sum"})
	if err != nil {
		t.Fatal(err)
	}
	ex, _ := st.Begin(ctx, 1)
	st.Write(ctx, []recovery.Snapshot{{StepID: "sum.gone", Key: "k", Epoch: 1, State: []byte{0}}})
	st.Commit(ctx, ex, 0, 1)
	st.Close()
	before, _ := recovery.Inspect(ctx, dir)

	cases := []struct{ name, spec, want string }{
		{"unknown step", "sum_file('sums.txt')", "sum.gone"},
		{"other flow id", "remind(1, 1)", `belongs to flow "sum", not "remind"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o := opts(t, 1)
			o.WorkDir, o.RecoveryDir = work, dir
			err := host.Run(ctx, flows(t), c.spec, o)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err %v, want one naming %q", err, c.want)
			}
			if !errors.Is(err, host.ErrStoreOtherFlow) {
				t.Errorf("err %v is not host.ErrStoreOtherFlow", err)
			}
			after, _ := recovery.Inspect(ctx, dir)
			if fmt.Sprint(after) != fmt.Sprint(before) {
				t.Errorf("store changed:\n%+v\n%+v", before, after)
			}
		})
	}
	t.Run("held by another run", func(t *testing.T) {
		held, err := recovery.OpenSQLite(ctx, dir, recovery.SQLiteOptions{})
		if err != nil {
			t.Fatal(err)
		}
		defer held.Close()
		o := opts(t, 1)
		o.WorkDir, o.RecoveryDir = work, dir
		if err := host.Run(ctx, flows(t), "sum_file('sums.txt')", o); !errors.Is(err, host.ErrStoreLocked) {
			t.Errorf("err %v, want host.ErrStoreLocked", err)
		}
	})
}

// TestStoreStaysBounded runs a keyed sum over a few keys for many short
// epochs: garbage collection keeps about one snapshot per key, where
// without it every epoch would add one.
func TestStoreStaysBounded(t *testing.T) {
	work := t.TempDir()
	const keys = 50
	writeSums(t, work, "sums.txt", 200_000, keys)
	o := opts(t, 2)
	o.WorkDir, o.RecoveryDir, o.EpochInterval = work, "rec", 10*time.Millisecond
	if err := host.Run(context.Background(), flows(t), "sum_file('sums.txt')", o); err != nil {
		t.Fatal(err)
	}
	sum, err := recovery.Inspect(context.Background(), filepath.Join(work, "rec"))
	if err != nil {
		t.Fatal(err)
	}
	last := sum.Executions[len(sum.Executions)-1]
	epochs := slices.Max(last.Frontiers)
	for _, s := range sum.Steps {
		// Every epoch touches every key: without collection the store would
		// hold about one snapshot per key and epoch.
		if s.StepID == "sum.sum" && (s.Snapshots > 20*keys || epochs < 50) {
			t.Errorf("%d snapshots of %d keys after %d epochs (want at most 20 per key, over at least 50 epochs)", s.Snapshots, keys, epochs)
		}
	}
}
