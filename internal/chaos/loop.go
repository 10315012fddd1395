//go:build linux

package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/bxwasm/bxwasm/internal/recovery"
)

// supervisorOdds is one in how many kills of a cluster hit its supervisor
// rather than one of its processes.
const supervisorOdds = 4

// chaos starts the flow Kills times, each time at a random scale, and
// SIGKILLs one of its processes after a random time. A run that completes
// before its kill ends the loop: the flow is done.
func (s *session) chaos(ctx context.Context, rep *Report) error {
	for n := 1; n <= s.cfg.Kills; n++ {
		done, err := s.chaosRun(ctx, n, rep)
		if err != nil || done {
			return err
		}
	}
	return nil
}

// chaosRun is run n of the loop. It reports true when the run completed
// before its kill.
func (s *session) chaosRun(ctx context.Context, n int, rep *Report) (bool, error) {
	scale := s.scale()
	name := fmt.Sprintf("run %d (%s)", n, scale)
	committed := s.resumeEpoch(ctx)
	p, err := start(s.bin, s.args(scale, chaosOutput, chaosRecovery), s.dir)
	if err != nil {
		return false, err
	}
	defer p.destroy()
	killsBefore := len(rep.Kills)
	defer func() { rep.noteResume(killsBefore, p.stderr.String()) }()
	wait := time.Duration(s.rng.Int64N(int64(s.cfg.MaxWait) + 1))
	if s.cfg.FromOutput {
		s.waitOutput(ctx, p)
	}
	if s.cfg.FromCommit && s.cfg.Recovery {
		s.waitCommit(ctx, p, committed)
	}
	if p.exited() || p.wait(ctx, wait) {
		return s.ended(n, name, p, rep), nil
	}
	if err := ctx.Err(); err != nil {
		return false, err
	}
	k, fail := s.kill(p, scale)
	k.N = n
	k.Output = countLines(filepath.Join(s.dir, chaosOutput))
	rep.Kills = append(rep.Kills, k)
	fmt.Fprintln(s.log, k)
	if fail != nil {
		fail.Run = name
		rep.Failures = append(rep.Failures, *fail)
		fmt.Fprintf(s.log, "FAILED %s\n", fail)
	}
	return false, nil
}

// ended records a run that exited before its kill: completed, or failed.
func (s *session) ended(n int, name string, p *proc, rep *Report) bool {
	if p.err == nil {
		rep.Completed++
		fmt.Fprintf(s.log, "%s: completed after %.2fs, before its kill\n", name, time.Since(p.started).Seconds())
		return true
	}
	fail := Failure{Run: name, Reason: p.status() + " before its kill", Stderr: p.stderr.String()}
	rep.Failures = append(rep.Failures, fail)
	fmt.Fprintf(s.log, "FAILED %s\n", fail)
	return false
}

// kill SIGKILLs one process of the run and waits until every process of
// it has ended. The Failure is for a run that did not end in time.
func (s *session) kill(p *proc, scale Scale) (Kill, *Failure) {
	k := Kill{Scale: scale, After: time.Since(p.started)}
	all := append(p.descendants(), p.root)
	victim, label := s.victim(p, scale)
	k.Victim = label
	killed := time.Now()
	_ = syscall.Kill(victim.pid, syscall.SIGKILL)
	var fail *Failure
	if !p.wait(context.Background(), s.cfg.ExitTimeout) {
		fail = &Failure{Reason: fmt.Sprintf("still running %v after the kill of %s", s.cfg.ExitTimeout, label)}
	} else if !waitGone(all, s.cfg.ExitTimeout) {
		fail = &Failure{Reason: fmt.Sprintf("processes outlived the run by %v after the kill of %s", s.cfg.ExitTimeout, label)}
	}
	k.Ended = time.Since(killed)
	if fail != nil {
		p.destroy()
		fail.Stderr = p.stderr.String()
	}
	k.Status = p.status()
	return k, fail
}

// victim picks the process to kill: the only one of a one-process run;
// in a cluster, mostly one of the supervisor's processes, sometimes the
// supervisor itself.
func (s *session) victim(p *proc, scale Scale) (pidInfo, string) {
	if scale.P == 1 {
		return p.root, fmt.Sprintf("single process (pid %d)", p.root.pid)
	}
	kids := childPIDs(p.root.pid)
	if len(kids) == 0 {
		return p.root, fmt.Sprintf("supervisor (pid %d, alone)", p.root.pid)
	}
	if s.rng.IntN(supervisorOdds) == 0 {
		return p.root, fmt.Sprintf("supervisor (pid %d)", p.root.pid)
	}
	pid := kids[s.rng.IntN(len(kids))]
	return pidInfo{pid: pid}, fmt.Sprintf("process %s (pid %d)", processIndex(pid), pid)
}

// countLines returns the number of lines of the file at path (0 if it
// cannot be read).
func countLines(path string) int {
	b, _ := os.ReadFile(path)
	return bytes.Count(b, []byte{'\n'})
}

// waitOutput waits until the run changes the output file (it truncates
// it to where it resumes, then writes), exits, or RunTimeout passes.
func (s *session) waitOutput(ctx context.Context, p *proc) {
	path := filepath.Join(s.dir, chaosOutput)
	for deadline := time.Now().Add(s.cfg.RunTimeout); time.Now().Before(deadline); {
		if st, err := os.Stat(path); err == nil && st.ModTime().After(p.started) {
			return
		}
		if p.wait(ctx, 10*time.Millisecond) || ctx.Err() != nil {
			return
		}
	}
}

// resumeEpoch is where a run on the chaos store would resume now (1 for
// no store yet).
func (s *session) resumeEpoch(ctx context.Context) uint64 {
	sum, err := recovery.Inspect(ctx, filepath.Join(s.dir, chaosRecovery))
	if err != nil {
		return 1
	}
	return sum.ResumeEpoch
}

// waitCommit waits until the chaos store's resume epoch has moved past
// from (the run committed an epoch, which the next run resumes from), the
// run exits, or RunTimeout passes.
func (s *session) waitCommit(ctx context.Context, p *proc, from uint64) {
	for deadline := time.Now().Add(s.cfg.RunTimeout); time.Now().Before(deadline); {
		if s.resumeEpoch(ctx) > from {
			return
		}
		if p.wait(ctx, 50*time.Millisecond) || ctx.Err() != nil {
			return
		}
	}
}
