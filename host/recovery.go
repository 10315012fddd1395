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

	"github.com/bxwasm/bxwasm/internal/abi"
	"github.com/bxwasm/bxwasm/internal/connectors"
	"github.com/bxwasm/bxwasm/internal/engine"
	"github.com/bxwasm/bxwasm/internal/recovery"
)

// Recovery errors a caller must tell apart, matched with errors.Is on what
// Run returns (the error's message is the detailed one underneath).
var (
	// ErrStoreLocked: another run is using the recovery directory.
	ErrStoreLocked = errors.New("host: the recovery store is in use by another run")
	// ErrForeignStore: the recovery directory belongs to another flow, or
	// holds state of steps this flow does not have.
	ErrForeignStore = errors.New("host: the recovery store belongs to another flow")
	// ErrStoreDamaged: a snapshot fails its checksum, or a row of the store
	// could not have been written by a run: the store was changed outside
	// bxwasm, and resuming from it would restore wrong state.
	ErrStoreDamaged = errors.New("host: the recovery store is damaged")
	// ErrSourceChanged: an input file is not the one the snapshot read (it
	// shrank, its bytes before the stored position changed, or it is gone).
	// Options.ResetSources accepts the change.
	ErrSourceChanged = errors.New("host: an input file changed since the snapshot")
)

// recoveryKinds maps the internal errors to the kind Run reports.
var recoveryKinds = []struct {
	kind  error
	cause []error
}{
	{ErrStoreLocked, []error{recovery.ErrLocked}},
	{ErrForeignStore, []error{recovery.ErrFlowMismatch, engine.ErrForeignState}},
	{ErrStoreDamaged, []error{recovery.ErrChecksum, recovery.ErrCorrupt}},
	{ErrSourceChanged, []error{connectors.ErrSourceChanged, engine.ErrGonePartition}},
}

// kindError is an error that also matches kind.
type kindError struct{ kind, err error }

func (e *kindError) Error() string   { return e.err.Error() }
func (e *kindError) Unwrap() []error { return []error{e.kind, e.err} }

// recoveryError makes err match the recovery error kind of its cause.
func recoveryError(err error) error {
	for _, k := range recoveryKinds {
		for _, c := range k.cause {
			if errors.Is(err, c) {
				return &kindError{kind: k.kind, err: err}
			}
		}
	}
	return err
}

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
