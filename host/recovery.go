package host

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/bxwasm/bxwasm/guest-sdk/go/abi"
	"github.com/bxwasm/bxwasm/internal/engine"
	"github.com/bxwasm/bxwasm/internal/recovery"
)

// checkResets checks Options.ResetSources against the flow: each must name
// an input step, and a run without RecoveryDir has nothing to reset.
func (r *runner) checkResets() error {
	if len(r.opts.ResetSources) == 0 {
		return nil
	}
	if r.opts.RecoveryDir == "" {
		return fmt.Errorf("%w: --reset-source needs a recovery directory (-r)", ErrBadOptions)
	}
	var inputs []string
	for _, s := range r.plan.Graph.Steps {
		if s.Kind == abi.KindInput {
			inputs = append(inputs, s.ID)
		}
	}
	for _, id := range r.opts.ResetSources {
		if !slices.Contains(inputs, id) {
			return fmt.Errorf("%w: --reset-source %s: flow %q has no input step %q; its input steps are %s",
				ErrBadOptions, id, r.plan.Graph.Flow, id, strings.Join(inputs, ", "))
		}
	}
	return nil
}

// openStore opens (or creates) the recovery store of the run, checking
// that it belongs to this flow before anything is written.
func (r *runner) openStore(ctx context.Context) (*recovery.SQLite, error) {
	dir := r.opts.RecoveryDir
	if !filepath.IsAbs(dir) {
		dir = filepath.Join(r.opts.WorkDir, dir)
	}
	store, err := recovery.OpenSQLite(ctx, dir, recovery.SQLiteOptions{
		FlowID: r.plan.Graph.Flow, Create: r.opts.ProcessID == 0, Partitions: r.opts.Processes * len(r.insts), Process: r.opts.ProcessID})
	if errors.Is(err, recovery.ErrFlowMismatch) {
		return nil, fmt.Errorf("recovery directory %s: %w; each flow needs a recovery directory of its own", dir, err)
	}
	if err != nil {
		return nil, fmt.Errorf("recovery directory %s: %w", dir, err)
	}
	if err := checkSteps(ctx, store, r.plan.Graph); err != nil {
		store.Close()
		return nil, fmt.Errorf("recovery directory %s: %w", dir, err)
	}
	return store, nil
}

// checkSteps refuses a store holding state of steps the flow does not have:
// it was written by another flow (or another version of this one).
func checkSteps(ctx context.Context, store *recovery.SQLite, g *abi.Graph) error {
	ids, err := store.StepIDs(ctx)
	if err != nil {
		return err
	}
	known := map[string]bool{}
	for _, s := range g.Steps {
		known[s.ID] = true
	}
	var unknown []string
	for _, id := range ids {
		if !known[id] {
			unknown = append(unknown, id)
		}
	}
	if len(unknown) > 0 {
		return engine.ForeignStateError(g.Flow, unknown)
	}
	return nil
}

// begin records a new execution (process 0 does, for every process) and
// returns where it resumes.
func begin(ctx context.Context, store recovery.Store, workers int, log io.Writer, resets []string) (*engine.Recovery, error) {
	resume, err := store.ResumeEpoch(ctx)
	if err != nil {
		return nil, err
	}
	ex, err := store.Begin(ctx, workers)
	if err != nil {
		return nil, err
	}
	return &engine.Recovery{Store: store, Execution: ex, Resume: resume, Log: log, ResetSources: resets}, nil
}

// collectGarbage drops superseded snapshots older than the backup interval
// once per epoch interval until stopped; its first error is sent on the
// returned channel. stop returns once it has ended.
func (r *runner) collectGarbage(ctx context.Context, store recovery.Store) (errs <-chan error, stop func()) {
	ch := make(chan error, 1)
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		r.gcLoop(ctx, store, ch)
	}()
	return ch, func() { cancel(); <-done }
}

func (r *runner) gcLoop(ctx context.Context, store recovery.Store, errs chan<- error) {
	keep := uint64(r.opts.BackupInterval / r.opts.EpochInterval)
	t := time.NewTicker(r.opts.EpochInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		resume, err := store.ResumeEpoch(ctx)
		if err == nil && resume-1 > keep {
			err = store.GC(ctx, resume-1-keep)
		}
		if err != nil && ctx.Err() == nil {
			errs <- &engine.StoreError{Err: err}
			return
		}
	}
}

// reportStop tells the user, after a graceful stop, where the next run
// resumes.
func (r *runner) reportStop(ctx context.Context, store recovery.Store) {
	resume, err := store.ResumeEpoch(context.WithoutCancel(ctx))
	if err != nil {
		fmt.Fprintf(r.opts.Stderr, "bxwasm: stopped; reading the resume epoch failed: %v\n", err)
		return
	}
	fmt.Fprintf(r.opts.Stderr, "bxwasm: stopped after epoch %d; run the same command again to resume from epoch %d\n", resume-1, resume)
}

// joinRecovery opens the store process 0 prepared, in the execution it
// began.
func (r *runner) joinRecovery(ctx context.Context, first hello) (*engine.Recovery, error) {
	store, err := r.openStore(ctx)
	if err != nil {
		return nil, err
	}
	return &engine.Recovery{Store: store, Execution: first.Execution, Resume: first.Resume, Log: r.opts.Stderr,
		ResetSources: r.opts.ResetSources}, nil
}
