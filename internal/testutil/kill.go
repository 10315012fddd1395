package testutil

import (
	"bytes"
	"errors"
	"os/exec"
	"syscall"
	"testing"
	"time"
)

// Proc is a command started in a process group of its own.
type Proc struct {
	t      testing.TB
	cmd    *exec.Cmd
	stderr bytes.Buffer
	done   chan error
	ended  bool
}

// StartKillable starts cmd in a process group of its own, keeping its
// stderr.
func StartKillable(t testing.TB, cmd *exec.Cmd) *Proc {
	t.Helper()
	p := &Proc{t: t, cmd: cmd, done: make(chan error, 1)}
	cmd.Stderr = &p.stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.done <- cmd.Wait() }()
	t.Cleanup(func() { // a test that failed before waiting leaves nothing running
		if !p.ended {
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-p.done
		}
	})
	return p
}

// Wait waits for the command to end, SIGKILLs its whole group after kill
// (never when kill is 0), and fails the test if it runs longer than limit.
// It returns the command's stderr and how it ended.
func (p *Proc) Wait(kill, limit time.Duration) (string, error) {
	p.t.Helper()
	deadline := time.NewTimer(limit)
	defer deadline.Stop()
	var killAt <-chan time.Time
	if kill > 0 {
		killAt = time.After(kill)
	}
	for {
		select {
		case err := <-p.done:
			p.ended = true
			return p.stderr.String(), err
		case <-killAt:
			_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
			killAt = nil
		case <-deadline.C:
			_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
			<-p.done
			p.ended = true
			p.t.Fatalf("%v did not end within %s:\n%s", p.cmd.Args, limit, p.stderr.String())
		}
	}
}

// RunKillable runs cmd with StartKillable and Proc.Wait.
func RunKillable(t testing.TB, cmd *exec.Cmd, kill, limit time.Duration) (string, error) {
	t.Helper()
	return StartKillable(t, cmd).Wait(kill, limit)
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
