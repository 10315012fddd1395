package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/bxwasm/bxwasm/internal/recovery"
	"github.com/bxwasm/bxwasm/internal/testutil"
)

// TestInterruptFinishesTheEpoch sends SIGINT to a local cluster that
// snapshots into a store: it exits 0 saying where it resumes, and the same
// command run again finishes with the sums of a run never interrupted.
func TestInterruptFinishesTheEpoch(t *testing.T) {
	flows := testutil.BuildWasm(t, "../../host/testdata/flows")
	work := t.TempDir()
	var in strings.Builder
	sums := map[int]int{}
	for i := 0; i < 1_000_000; i++ {
		fmt.Fprintf(&in, "k%d:%d\n", i%97, i)
		sums[i%97] += i
	}
	os.WriteFile(filepath.Join(work, "sums.txt"), []byte(in.String()), 0o644)
	var want []string
	for k, s := range sums {
		want = append(want, fmt.Sprintf("k%d=%d", k, s))
	}
	slices.Sort(want)
	args := []string{"run", flows + ":sum_file('sums.txt')", "-p2", "-r", "rec", "-s", "0.05"}

	cmd := exec.Command(binary(t), args...)
	cmd.Dir, cmd.Env = work, append(cleanEnv(), cacheEnv(t))
	var out, errOut testutil.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	waitFor(t, time.Minute, func() bool { return inputMoved(filepath.Join(work, "rec")) })
	cmd.Process.Signal(syscall.SIGINT)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("interrupted run: %v; stderr %q", err, errOut.String())
	}
	if !strings.Contains(errOut.String(), "run the same command again to resume from epoch") {
		t.Errorf("stderr %q does not say where the run resumes", errOut.String())
	}
	r := bxwasm(t, work, "", []string{cacheEnv(t)}, args...)
	if r.code != 0 {
		t.Fatalf("resumed run: exit %d: %s", r.code, r.err)
	}
	got := sortedLines(out.String() + r.stdout)
	if !slices.Equal(got, want) {
		t.Errorf("interrupted then resumed: %d sums (%d before the interrupt), want %d", len(got), len(sortedLines(out.String())), len(want))
	}
}

// inputMoved reports whether the store in dir holds a position of the
// input, that is, the run has committed some progress.
func inputMoved(dir string) bool {
	sum, err := recovery.Inspect(context.Background(), dir)
	if err != nil {
		return false
	}
	for _, s := range sum.Steps {
		if s.StepID == "sum.inp" {
			return true
		}
	}
	return false
}

// TestInterruptOfOneProcessStopsAManualCluster interrupts one process of
// a manual cluster with a store: both finish the epoch and exit 0.
func TestInterruptOfOneProcessStopsAManualCluster(t *testing.T) {
	flows := testutil.BuildWasm(t, "../../host/testdata/flows")
	work := t.TempDir()
	var in strings.Builder
	for i := 0; i < 1_000_000; i++ {
		fmt.Fprintf(&in, "k%d:%d\n", i%97, i)
	}
	os.WriteFile(filepath.Join(work, "sums.txt"), []byte(in.String()), 0o644)
	addrs := freeAddrs(t, 2)
	cmds := make([]*exec.Cmd, 2)
	errs := make([]testutil.Buffer, 2)
	for i := range cmds {
		cmds[i] = exec.Command(binary(t), "run", flows+":sum_file('sums.txt')", "-i", fmt.Sprint(i), "-a", addrs, "-r", "rec", "-s", "0.05")
		cmds[i].Dir, cmds[i].Env, cmds[i].Stderr = work, append(cleanEnv(), cacheEnv(t)), &errs[i]
		if err := cmds[i].Start(); err != nil {
			t.Fatal(err)
		}
		defer cmds[i].Process.Kill()
	}
	waitFor(t, time.Minute, func() bool { return inputMoved(filepath.Join(work, "rec")) })
	cmds[1].Process.Signal(syscall.SIGINT)
	for i, cmd := range cmds {
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("process %d: %v; stderr %q", i, err, errs[i].String())
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("process %d still running 30s after process 1 was interrupted", i)
		}
	}
	if !strings.Contains(errs[0].String(), "resume from epoch") {
		t.Errorf("process 0's stderr %q does not say where the run resumes", errs[0].String())
	}
}
