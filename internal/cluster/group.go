package cluster

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"sync"
	"time"
)

// group is the running children of one Supervisor.Run. Everything but the
// exit goroutines runs on the goroutine of Run.
type group struct {
	s        Supervisor
	cmds     []*exec.Cmd
	outs     []*lineWriter // stdout and stderr writers of every child
	exits    chan exited
	running  int
	finished []bool
}

// exited is one child's end.
type exited struct {
	process int
	err     error
}

// newGroup prepares the children of s; none is started yet.
func newGroup(s Supervisor) *group {
	return &group{s: s, exits: make(chan exited, s.Processes), finished: make([]bool, s.Processes)}
}

// spawn starts the children on a thread locked to this goroutine until
// release is closed: Linux sends a child's parent-death signal when the
// thread that started it ends, which Go does to a thread whose locked
// goroutine exits. Locking keeps any other goroutine off this thread.
func (g *group) spawn(started chan<- error, release <-chan struct{}) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	started <- g.startAll()
	<-release
}

// startAll starts every child, and a goroutine per child that waits for it.
func (g *group) startAll() error {
	var mu sync.Mutex // one lock for both streams: they may be one writer
	stdout, stderr := &syncWriter{mu: &mu, w: g.s.Stdout}, &syncWriter{mu: &mu, w: g.s.Stderr}
	for i := range g.s.Processes {
		cmd := exec.Command(g.s.Path, g.s.Args...)
		cmd.Env = g.s.childEnv(i)
		out, errw := &lineWriter{dst: stdout}, &lineWriter{dst: stderr}
		cmd.Stdout, cmd.Stderr = out, errw
		cmd.SysProcAttr = childAttr()
		closeSecret, err := g.s.passSecret(cmd)
		if err != nil {
			return err
		}
		err = cmd.Start()
		closeSecret()
		if err != nil {
			return fmt.Errorf("cluster: start process %d (%s): %w", i, g.s.Path, err)
		}
		g.cmds, g.outs = append(g.cmds, cmd), append(g.outs, out, errw)
		g.running++
		go func() { g.exits <- exited{i, exitError(i, cmd.Wait())} }()
	}
	return nil
}

// wait waits for every child. The first failure starts the grace period,
// after which the rest are killed; ctx cancellation kills them at once;
// signals are forwarded.
func (g *group) wait(ctx context.Context, sigs <-chan os.Signal) error {
	var first, cancelled error
	var grace <-chan time.Time
	done := ctx.Done()
	for g.running > 0 {
		select {
		case e := <-g.exits:
			g.exited(e.process)
			if e.err != nil && first == nil {
				first, grace = e.err, time.After(g.s.Grace)
			}
		case sig := <-sigs:
			g.signalAll(sig)
		case <-grace:
			g.killAll()
		case <-done:
			cancelled, done = ctx.Err(), nil
			g.killAll()
		}
	}
	g.flush()
	if cancelled != nil {
		return fmt.Errorf("cluster: supervise: %w", cancelled)
	}
	return first
}

// exited records that child i is gone.
func (g *group) exited(i int) {
	g.finished[i] = true
	g.running--
}

// waitAll waits for the children started so far (after startAll failed).
func (g *group) waitAll() {
	for g.running > 0 {
		g.exited((<-g.exits).process)
	}
	g.flush()
}

// signalAll sends sig to every child still running.
func (g *group) signalAll(sig os.Signal) {
	for i, cmd := range g.cmds {
		if !g.finished[i] {
			cmd.Process.Signal(sig) // an error means it has just exited
		}
	}
}

// killAll kills every child still running.
func (g *group) killAll() { g.signalAll(os.Kill) }

// flush writes out the children's unfinished last lines.
func (g *group) flush() {
	for _, w := range g.outs {
		w.flush()
	}
}
