package engine

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/bxwasm/bxwasm/internal/connectors"
)

// A staged sink (connectors.StagedSinkPart) publishes an epoch's items only
// once every worker of the run has committed the epoch: before that, a
// crash would make the resume replay the epoch, and a replay puts other
// items in it. The committer tells staged sinks after each commit how far
// the whole run has committed (the store's resume epoch - 1, which counts
// the workers of every process). At the end of a run it waits for the other
// processes to commit the last epochs, publishes them and closes the sinks.

// finishWait is how long a process that ended waits for the others to
// commit the epochs its staged sinks still hold, and how often it looks.
const (
	finishWait = 60 * time.Second
	finishPoll = 20 * time.Millisecond
)

// stagedSinks lists the worker's staged sink partitions.
func (w *worker) stagedSinks() []connectors.StagedSinkPart {
	var out []connectors.StagedSinkPart
	for i := range w.nodes {
		for _, s := range w.nodes[i].sinks {
			if st, ok := s.host.(connectors.StagedSinkPart); ok {
				out = append(out, st)
			}
		}
	}
	return out
}

// publish tells the staged sinks every epoch the whole run committed.
func (c *committer) publish(ctx context.Context) error {
	if len(c.staged) == 0 {
		return nil
	}
	resume, err := c.rec.Store.ResumeEpoch(ctx)
	if err != nil {
		return &StoreError{Err: err}
	}
	if resume <= 1 || resume-1 <= c.published {
		return nil
	}
	c.published = resume - 1
	for _, s := range c.staged {
		if err := s.Committed(c.published); err != nil {
			return err
		}
	}
	return nil
}

// finish runs after the workers and the committer stopped. After a run that
// succeeded (or stopped gracefully) it waits until the epochs the staged
// sinks still hold are committed everywhere and publishes them; then it
// closes the sinks. After a failure it only closes them: what they held is
// replayed by the resume.
func (c *committer) finish(ctx context.Context, ok bool) error {
	var err error
	if ok {
		err = c.drain(context.WithoutCancel(ctx))
	}
	for _, s := range c.staged {
		if cerr := s.Close(); err == nil {
			err = cerr
		}
	}
	return err
}

// drain publishes what the staged sinks hold, once committed everywhere.
func (c *committer) drain(ctx context.Context) error {
	deadline := time.Now().Add(finishWait)
	for {
		want := uint64(0)
		for _, s := range c.staged {
			want = max(want, s.Pending())
		}
		if want == 0 {
			return nil
		}
		if err := c.publish(ctx); err != nil {
			return err
		}
		if c.published >= want {
			continue
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%w: the output of epoch %d is not published: the other processes did not commit it within %s; it is published when the flow resumes (-r)",
				errUnpublished, want, finishWait)
		}
		time.Sleep(finishPoll)
	}
}

var errUnpublished = errors.New("engine: unpublished output")
