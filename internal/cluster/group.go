package cluster

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"sync"
	"time"

	"github.com/bxwasm/bxwasm/internal/watchdog"
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
	tables   []*watchdog.Table // every child's, with Supervisor.Watch
	obs      []watchdog.Observer
	signals  int // SIGINT and SIGTERM received
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
		if g.s.Direct {
			cmd.Stdin, cmd.Stdout, cmd.Stderr = g.s.Stdin, g.s.Stdout, g.s.Stderr
		} else {
			out, errw := &lineWriter{dst: stdout}, &lineWriter{dst: stderr}
			cmd.Stdout, cmd.Stderr = out, errw
			g.outs = append(g.outs, out, errw)
		}
		cmd.SysProcAttr = childAttr()
		if err := g.watch(cmd); err != nil {
			return err
		}
		closeSecret, err := g.s.passSecret(cmd)
		if err != nil {
			return err
		}
		err = cmd.Start()
		closeSecret()
		if err != nil {
			return fmt.Errorf("cluster: start process %d (%s): %w", i, g.s.Path, err)
		}
		g.cmds = append(g.cmds, cmd)
		g.running++
		go func() { g.exits <- exited{i, exitError(i, cmd.Wait())} }()
	}
	return nil
}

// watch gives cmd a watchdog table, with Supervisor.Watch.
func (g *group) watch(cmd *exec.Cmd) error {
	if g.s.Watch == nil {
		return nil
	}
	t, err := watchdog.Create(g.s.Watch.Slots)
	if err != nil {
		return err
	}
	g.tables = append(g.tables, t)
	g.obs = append(g.obs, watchdog.Observer{Limits: g.s.Watch.Limits})
	cmd.ExtraFiles = append(cmd.ExtraFiles, t.File())
	cmd.Env = append(cmd.Env, fmt.Sprintf("%s=%d", watchdog.EnvFD, 2+len(cmd.ExtraFiles)))
	return nil
}

// killWait is how long wait waits for children it killed to be reaped: a
// killed child whose output this process cannot pass on (its own stdout
// does not drain) is dead but never reaped.
const killWait = 3 * time.Second

// outcome is what ended a group's wait.
type outcome struct {
	first     error // the first child's failure
	cancelled error // ctx's error
	stopped   error // an overrun, or a stop that took too long
	grace     <-chan time.Time
	stopping  <-chan time.Time // the end of StopGrace after a signal
	abandon   <-chan time.Time // the end of killWait after a kill
}

// wait waits for every child. The first failure starts the grace period,
// after which the rest are killed; ctx cancellation kills them at once; a
// signal is forwarded, and a second one, or the end of StopGrace after
// the first, kills them; so does a guest call past its limit.
func (g *group) wait(ctx context.Context, sigs <-chan os.Signal) error {
	var o outcome
	done := ctx.Done()
	poll := g.ticker()
	defer poll.Stop()
	for g.running > 0 {
		select {
		case e := <-g.exits:
			g.exited(e.process)
			if e.err != nil && o.first == nil {
				o.first, o.grace = e.err, time.After(g.s.Grace)
			}
		case sig := <-sigs:
			g.signal(&o, sig)
		case <-o.stopping:
			g.stop(&o, fmt.Sprintf("the interrupt: the run had not stopped %s after it", g.s.StopGrace))
		case now := <-poll.C:
			if over := g.overrun(now); over != nil && o.stopped == nil {
				o.stopped = over
				g.kill(&o)
			}
		case <-o.grace:
			g.kill(&o)
		case <-done:
			o.cancelled, done = ctx.Err(), nil
			if g.signals > 0 {
				g.stop(&o, "a second interrupt")
			}
			g.kill(&o)
		case <-o.abandon:
			return o.err() // the unread output of dead children is lost
		}
	}
	g.flush()
	g.closeTables()
	return o.err()
}

// err is the error wait returns.
func (o *outcome) err() error {
	switch {
	case o.stopped != nil:
		return o.stopped
	case o.cancelled != nil:
		return fmt.Errorf("cluster: supervise: %w", o.cancelled)
	}
	return o.first
}

// signal forwards the first SIGINT or SIGTERM and starts StopGrace; a
// second one kills every child.
func (g *group) signal(o *outcome, sig os.Signal) {
	if g.signals++; g.signals == 1 {
		g.signalAll(sig)
		o.stopping = time.After(g.s.StopGrace)
		return
	}
	g.stop(o, "a second interrupt")
}

// stop kills every child, once, saying what was still inside a guest.
func (g *group) stop(o *outcome, reason string) {
	if o.stopped == nil {
		o.stopped = g.stopNow(reason)
		g.kill(o)
	}
}

// kill kills every child still running and bounds the wait for them.
func (g *group) kill(o *outcome) {
	g.killAll()
	if o.abandon == nil {
		o.abandon = time.After(killWait)
	}
}

// ticker reads the tables every Watch.Poll; without a watch it never
// ticks.
func (g *group) ticker() *time.Ticker {
	if g.s.Watch == nil {
		t := time.NewTicker(time.Hour)
		t.Stop()
		return t
	}
	return time.NewTicker(g.s.Watch.Poll)
}

// overrun returns the first call of a running child past its limit.
func (g *group) overrun(now time.Time) error {
	for i, t := range g.tables {
		if g.finished[i] {
			continue
		}
		if over := g.obs[i].Observe(t, now); over != nil {
			return over
		}
	}
	return nil
}

// stopNow says what the running children are still doing inside a guest.
func (g *group) stopNow(reason string) error {
	var inside []watchdog.Activity
	now := time.Now()
	for i, t := range g.tables {
		if !g.finished[i] {
			inside = append(inside, g.obs[i].Inside(t, now)...)
		}
	}
	return &watchdog.StopError{Reason: reason, Inside: inside}
}

// closeTables unmaps the children's tables once they are gone.
func (g *group) closeTables() {
	for _, t := range g.tables {
		t.Close()
	}
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
	g.closeTables()
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
