package testutil

import (
	"bytes"
	"errors"
	"os/exec"
	"syscall"
	"testing"
	"time"
)

// RunKillable runs cmd in a process group of its own, SIGKILLs the whole
// group after kill (never when kill is 0), and fails the test if it runs
// longer than limit. It returns cmd's stderr and how it ended.
func RunKillable(t testing.TB, cmd *exec.Cmd, kill, limit time.Duration) (string, error) {
	t.Helper()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	deadline := time.NewTimer(limit)
	defer deadline.Stop()
	var killAt <-chan time.Time
	if kill > 0 {
		killAt = time.After(kill)
	}
	for {
		select {
		case err := <-done:
			return stderr.String(), err
		case <-killAt:
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			killAt = nil
		case <-deadline.C:
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-done
			t.Fatalf("%v did not end within %s:\n%s", cmd.Args, limit, stderr.String())
		}
	}
}

// Killed reports whether err says the process died of SIGKILL.
func Killed(err error) bool {
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		return false
	}
	ws, ok := ee.Sys().(syscall.WaitStatus)
	return ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL
}
