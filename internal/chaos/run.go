//go:build linux

package main

import (
	"context"
	"fmt"
	"io"
	"os/exec"
	"sync"
	"syscall"
	"time"
)

// stderrTail is how much of a run's standard error is kept.
const stderrTail = 32 << 10

// proc is one bxwasm run: the process the harness started (a cluster's
// supervisor, or the only process) in a process group of its own.
type proc struct {
	cmd     *exec.Cmd
	root    pidInfo
	stderr  *tail
	started time.Time
	done    chan struct{} // closed when the root has exited and err is set
	err     error
	seen    []pidInfo // descendants seen so far
}

// start runs bin with args in dir.
func start(bin string, args []string, dir string) (*proc, error) {
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Stdout = io.Discard
	p := &proc{cmd: cmd, stderr: &tail{max: stderrTail}, done: make(chan struct{})}
	cmd.Stderr = p.stderr
	// Its own group, so one signal reaches it and whatever it forks
	// without a group of its own; and killed with the harness.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("chaos: starting %s: %w", bin, err)
	}
	p.started = time.Now()
	p.root, _ = identify(cmd.Process.Pid)
	p.root.pid = cmd.Process.Pid
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// wait waits until the run exits, d passes or ctx ends, and reports
// whether the run exited.
func (p *proc) wait(ctx context.Context, d time.Duration) bool {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-p.done:
		return true
	case <-timer.C:
	case <-ctx.Done():
	}
	return false
}

// exited reports whether the run has exited.
func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// descendants returns the processes below the root now, and remembers
// them for destroy.
func (p *proc) descendants() []pidInfo {
	ds := descendants(p.root.pid)
	p.seen = append(p.seen, ds...)
	return ds
}

// destroy kills the root's process group and every descendant seen, and
// waits for the root and for them (each with a bound): nothing of the run
// is left behind.
func (p *proc) destroy() {
	if !p.exited() {
		p.descendants()
		_ = syscall.Kill(-p.root.pid, syscall.SIGKILL)
	}
	for _, d := range p.seen {
		d.kill()
	}
	<-p.done
	waitGone(p.seen, 10*time.Second)
}

// status describes how the run ended.
func (p *proc) status() string {
	if p.err == nil {
		return "exit status 0"
	}
	return p.err.Error()
}

// tail keeps the last max bytes written to it.
type tail struct {
	mu  sync.Mutex
	max int
	buf []byte
	cut bool // bytes were dropped from the front
}

// Write appends b, dropping the oldest bytes beyond max.
func (t *tail) Write(b []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, b...)
	if over := len(t.buf) - t.max; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
		t.cut = true
	}
	return len(b), nil
}

// String returns what is kept, marked when its start was dropped.
func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.cut {
		return "[...]" + string(t.buf)
	}
	return string(t.buf)
}
